{#- Every user the account shows: the users of the most recent users listing
    (is_listed), plus every user id that a conversation's latest copy references
    as assignee or closer, or as the author of one of its threads, but the
    listing lacks (int_helpscout__user_references): deactivated users, Help
    Scout's automatic closer, AI system users. Those carry the name and email of the latest copy that shows them (a
    copy that names the user beats one that gives only a closedBy id); the
    listing's other fields stay null for them.

    Names and emails in the clear: the conversations mart matches closers against
    system_closer_emails here, before the users mart applies personal_data.
    listing_state_at dates what the listings say of the user: the first listing
    of the user's current state, listed with this email or dropped (null for
    a user no listing ever had). The conversations mart dates a row whose
    closer email comes from here by it: a pure function of the lake that moves
    only when that state does, so a full refresh gives what the incremental
    runs kept. A name and email taken from a conversation's copy are not dated
    (a newer copy naming the user would move the date without the email
    changing). -#}
{{ config(materialized='table') }}
with

staged_users as (

    select * from {{ ref('stg_helpscout__users') }}

),

user_references as (

    select * from {{ ref('int_helpscout__user_references') }}

),

lake_copies as (

    select * from {{ source('helpscout_raw', 'conversations') }}

),

listing_rows as (

    select * from {{ source('helpscout_raw', 'users') }}

),

latest_listing as (

    select *
    from staged_users
    where {{ in_latest_listing(ref('stg_helpscout__users')) }}

),

-- one row per listing the loader committed (a run lists every user at once)
listings as (

    select
        run_id,
        min(loaded_at) as listed_at
    from listing_rows
    group by run_id

),

-- per user any listing had, and per listing: is the user in it, and with which
-- email; a break is a listing that differs from the user's state now
listing_states as (

    select
        listed_users.user_id,
        listings.listed_at,
        case
            when latest_listing.user_id is not null
                then (
                    user_rows.entity_id is null
                    or (user_rows.payload ->> 'email') is distinct from latest_listing.email
                )
            else user_rows.entity_id is not null
        end as is_break
    from (select distinct listing_rows.entity_id as user_id from listing_rows) as listed_users
    cross join listings
    left join listing_rows as user_rows
        on listings.run_id = user_rows.run_id and listed_users.user_id = user_rows.entity_id
    left join latest_listing
        on listed_users.user_id = latest_listing.user_id

),

-- the first listing of the user's current state (listed with this email, or
-- dropped): it changes only when that state does, not with every listing
listing_state_starts as (

    select
        user_id,
        min(listed_at) as listing_state_at
    from (
        select
            user_id,
            listed_at,
            is_break,
            max(listed_at) filter (where is_break) over (partition by user_id) as last_break_at
        from listing_states
    ) as states
    where not is_break and listed_at > coalesce(last_break_at, '-infinity'::timestamptz)
    group by user_id

),

listed as (

    select
        latest_listing.user_id,
        latest_listing.first_name,
        latest_listing.last_name,
        latest_listing.email,
        latest_listing.role,
        latest_listing.user_type,
        latest_listing.timezone,
        latest_listing.created_at,
        latest_listing.updated_at,
        true as is_listed,
        listing_state_starts.listing_state_at
    from latest_listing
    left join listing_state_starts
        on latest_listing.user_id = listing_state_starts.user_id

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
        -- the copy giving the name is not a date: a newer copy naming the user
        -- would move it without the name changing
        listing_state_starts.listing_state_at
    from unlisted
    inner join lake_copies
        on unlisted.lake_id = lake_copies.lake_id
    left join listing_state_starts
        on unlisted.user_id = listing_state_starts.user_id

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
        listing_state_at
    from unlisted_people

),

final as (

    select * from listed
    union all
    select * from referenced

)

select * from final
