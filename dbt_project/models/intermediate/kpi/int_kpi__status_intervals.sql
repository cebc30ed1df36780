{#- The status intervals (conversation_status_history) of the conversations the
    KPI marts count, attributed to the conversation's current mailbox, with their
    bounds in reporting-zone wall time. A conversation is open at the end of a
    period ending at instant E when the interval with valid_from < E <= valid_to
    (null valid_to: open-ended) is active or pending; in local time that interval
    covers the periods from the one holding valid_from up to, not including, the
    one holding valid_to.

    Incremental (replace_by_key on conversation_id): a run redoes the intervals
    of the conversations of kpi_changed_conversations. -#}
{{
    config(
        materialized='incremental',
        unique_key='conversation_id',
        present_column='interval_number',
        post_hook=['{{ refresh_statistics() }}', '{{ kpi_record_settings_mark() }}'],
        indexes=[
            {'columns': ['conversation_id', 'interval_number'], 'unique': true},
            {'columns': ['lake_loaded_at']},
        ] + kpi_period_indexes(['valid_from_local', 'valid_to_local']),
    )
}}

-- depends_on: {{ ref('conversations') }}

{%- set is_counted -%}
    exists (
        select 1
        from {{ ref('int_kpi__conversations') }} as kpi_conversations
        where kpi_conversations.conversation_id = conversations.conversation_id
    )
{%- endset %}

with

{%- if is_incremental() %}

    changed_conversations as (

        {{ kpi_changed_conversations(rows_now=is_counted) }}

    ),
{%- endif %}

-- not narrowed to the changed conversations here: final's join with them is
-- what lets the planner read only those (a filter here made it rescan them per key)
status_history as (

    select * from {{ ref('conversation_status_history') }}

),

kpi_conversations as (

    select * from {{ ref('int_kpi__conversations') }}

),

intervals as (

    select
        status_history.conversation_id,
        status_history.interval_number,
        kpi_conversations.mailbox_id,
        status_history.status,
        status_history.status in ('active', 'pending') as is_open,
        status_history.is_reopening,
        status_history.valid_from,
        status_history.valid_to,
        {{ kpi_local('status_history.valid_from') }} as valid_from_local,
        {{ kpi_local('status_history.valid_to') }} as valid_to_local,
        kpi_conversations.lake_loaded_at

    from status_history
    inner join kpi_conversations
        on status_history.conversation_id = kpi_conversations.conversation_id

),

final as (

    {{ replace_by_key_rows('intervals', 'changed_conversations', 'conversation_id') }}  -- noqa: RF02, ST07

)

select * from final
