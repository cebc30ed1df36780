{#- Per conversation, every user its latest copy references: as assignee, as
    closer (closedBy, with or without closedByUser) or as the author of one of
    its threads. int_helpscout__users takes from here the users the listing
    lacks, and the copy that names each of them. is_named: some reference in
    the copy gives the user's name (closedBy alone gives only an id).

    Incremental by conversation (replace_by_key on conversation_id): a
    conversation whose latest copy was restaged gets its rows replaced, so the
    users model no longer reads every staged conversation and thread on every
    run (1M conversations: 4.5M references). -#}
{{
    config(
        materialized='incremental',
        incremental_strategy='replace_by_key',
        unique_key='conversation_id',
        present_column='user_id',
        on_schema_change='fail',
        post_hook='{{ refresh_statistics() }}',
        indexes=[
            {'columns': ['conversation_id', 'user_id'], 'unique': true},
            {'columns': ['lake_loaded_at']},
        ],
    )
}}

-- depends_on: {{ ref('stg_helpscout__conversations') }}

with

{% if is_incremental() -%}
    changed_conversations as (

        {{ restaged_conversations() }}

    ),
{%- endif %}

conversations as not materialized (

    select
        conversation_id,
        lake_id,
        extracted_at,
        lake_loaded_at,
        assignee_id,
        closed_by_user_id,
        closed_by_user_email
    from {{ ref('stg_helpscout__conversations') }}
    {{ only_changed_conversations('conversation_id') }}

),

threads as (

    select
        conversation_id,
        created_by_id,
        created_by_type
    from {{ ref('stg_helpscout__threads') }}
    {{ only_changed_conversations('conversation_id') }}

),

user_threads as (

    select
        conversation_id,
        created_by_id
    from threads
    where created_by_type = 'user' and created_by_id is not null

),

mentions as (

    select
        conversation_id,
        assignee_id as user_id,
        true as is_named
    from conversations
    where assignee_id is not null

    union all

    select
        conversation_id,
        closed_by_user_id as user_id,
        closed_by_user_email is not null as is_named
    from conversations
    where closed_by_user_id is not null

    union all

    select
        conversation_id,
        created_by_id as user_id,
        true as is_named
    from user_threads

),

per_user as (

    select
        mentions.conversation_id,
        mentions.user_id,
        bool_or(mentions.is_named) as is_named,
        conversations.lake_id,
        conversations.extracted_at,
        conversations.lake_loaded_at
    from mentions
    inner join conversations
        on mentions.conversation_id = conversations.conversation_id
    group by
        mentions.conversation_id,
        mentions.user_id,
        conversations.lake_id,
        conversations.extracted_at,
        conversations.lake_loaded_at

),

final as (

    {{ replace_by_key_rows('per_user', keys_from='changed_conversations', key='conversation_id') }}  -- noqa: RF02, ST07

)

select * from final
