{#- Every user the account shows: the users of the most recent users listing
    (is_listed), plus every user id that a conversation's latest copy references
    as assignee or closer, or as the author of one of its threads, but the
    listing lacks: deactivated users, Help Scout's automatic closer, AI system
    users. Those carry the name and email of the latest copy that shows them (a
    copy that names the user beats one that gives only a closedBy id); the
    listing's other fields stay null for them.

    Names and emails in the clear: the conversations mart matches closers against
    system_closer_emails here, before the users mart applies personal_data.
    lake_loaded_at is the load time of the lake row a user's name and email come
    from (for an unlisted user, the later of that copy and the latest listing):
    a closer's email found here dates the conversation row that uses it. -#}
{{ config(materialized='table') }}
with

staged_users as (

    select * from {{ ref('stg_helpscout__users') }}

),

conversations as (

    select * from {{ ref('stg_helpscout__conversations') }}

),

threads as (

    select * from {{ ref('stg_helpscout__threads') }}

),

lake_copies as (

    select * from {{ source('helpscout_raw', 'conversations') }}

),

listed as (

    select
        user_id,
        first_name,
        last_name,
        email,
        role,
        user_type,
        timezone,
        created_at,
        updated_at,
        true as is_listed,
        lake_loaded_at
    from staged_users
    where {{ in_latest_listing(ref('stg_helpscout__users')) }}

),

user_references as (

    select
        assignee_id as user_id,
        lake_id,
        extracted_at,
        true as is_named
    from conversations
    where assignee_id is not null

    union all

    -- closedBy alone gives an id, no name
    select
        closed_by_user_id as user_id,
        lake_id,
        extracted_at,
        closed_by_user_email is not null as is_named
    from conversations
    where closed_by_user_id is not null

    union all

    select
        created_by_id as user_id,
        conversation_lake_id as lake_id,
        conversation_extracted_at as extracted_at,
        true as is_named
    from threads
    where created_by_type = 'user' and created_by_id is not null

),

unlisted as (

    select distinct on (user_references.user_id)
        user_references.user_id,
        user_references.lake_id
    from user_references
    left join listed
        on user_references.user_id = listed.user_id
    where listed.user_id is null
    order by
        user_references.user_id asc,
        user_references.is_named desc,
        user_references.extracted_at desc,
        user_references.lake_id desc

),

unlisted_people as (

    select
        unlisted.user_id,
        coalesce(
            case
                when lake_copies.payload -> 'assignee' ->> 'id' = unlisted.user_id::text
                    then lake_copies.payload -> 'assignee'
            end,
            case
                when lake_copies.payload -> 'closedByUser' ->> 'id' = unlisted.user_id::text
                    then lake_copies.payload -> 'closedByUser'
            end,
            jsonb_path_query_first(
                lake_copies.payload,
                '$._embedded.threads[*].createdBy ? (@.id == $id && @.type == "user")',
                jsonb_build_object('id', unlisted.user_id)
            )
        ) as person,
        -- unlisted follows from the latest listing as much as from the copy
        greatest(lake_copies.loaded_at, (select max(listed.lake_loaded_at) from listed)) as lake_loaded_at
    from unlisted
    inner join lake_copies
        on unlisted.lake_id = lake_copies.lake_id

),

referenced as (

    select
        user_id,
        person ->> 'first' as first_name,
        person ->> 'last' as last_name,
        person ->> 'email' as email,
        null::text as role,
        person ->> 'type' as user_type,
        null::text as timezone,
        null::timestamptz as created_at,
        null::timestamptz as updated_at,
        false as is_listed,
        lake_loaded_at
    from unlisted_people

),

final as (

    select * from listed
    union all
    select * from referenced

)

select * from final
