{#- User replies (the contract's is_user_reply) on the conversations the KPI marts
    count, attributed to the conversation's current mailbox.

    Incremental (replace_by_key on thread_id): a run redoes the replies of the
    conversations of kpi_changed_conversations, those they hold now and those
    held under them before (a merge moves a thread to another conversation). -#}
{{
    config(
        materialized='incremental',
        unique_key='thread_id',
        present_column='conversation_id',
        post_hook=['{{ refresh_statistics() }}', '{{ kpi_record_settings_mark() }}'],
        indexes=[
            {'columns': ['thread_id'], 'unique': true},
            {'columns': ['conversation_id']},
            {'columns': ['lake_loaded_at']},
        ] + kpi_period_indexes(['created_at_local']),
    )
}}

-- depends_on: {{ ref('conversations') }}

{%- set has_replies -%}
    exists (
        select 1
        from {{ ref('threads') }} as threads
        where threads.conversation_id = conversations.conversation_id and threads.is_user_reply
    )
{%- endset %}

with

{%- if is_incremental() %}

    changed_conversations as (

        {{ kpi_changed_conversations(rows_now=has_replies) }}

    ),

    affected_threads as (

        select threads.thread_id
        from {{ ref('threads') }} as threads
        {{ only_changed_conversations('threads.conversation_id') }}
        union
        select held.thread_id
        from {{ this }} as held
        {{ only_changed_conversations('held.conversation_id') }}

    ),
{%- endif %}

-- not narrowed to the affected threads here: final's join with them is what
-- lets the planner read only those (a filter here made it rescan them per key)
threads as (

    select * from {{ ref('threads') }}

),

kpi_conversations as (

    select * from {{ ref('int_kpi__conversations') }}

),

replies as (

    select
        threads.thread_id,
        threads.conversation_id,
        kpi_conversations.mailbox_id,
        threads.created_by_id as user_id,
        threads.created_at,
        {{ kpi_local('threads.created_at') }} as created_at_local,
        kpi_conversations.lake_loaded_at

    from threads
    inner join kpi_conversations
        on threads.conversation_id = kpi_conversations.conversation_id
    where
        threads.is_user_reply
        and threads.created_at is not null

),

final as (

    {{ replace_by_key_rows('replies', keys_from='affected_threads', key='thread_id') }}  -- noqa: RF02, ST07

)

select * from final
