{#- The status intervals (conversation_status_history) of the conversations the
    KPI marts count, attributed to the conversation's current mailbox, with their
    bounds in reporting-zone wall time. A conversation is open at the end of a
    period ending at instant E when the interval with valid_from < E <= valid_to
    (null valid_to: open-ended) is active or pending; in local time that interval
    covers the periods from the one holding valid_from up to, not including, the
    one holding valid_to. -#}
{{ config(indexes=[{'columns': ['conversation_id', 'interval_number'], 'unique': true}]) }}

with

status_history as (

    select * from {{ ref('conversation_status_history') }}

),

kpi_conversations as (

    select * from {{ ref('int_kpi__conversations') }}

),

final as (

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
        {{ kpi_local('status_history.valid_to') }} as valid_to_local

    from status_history
    inner join kpi_conversations
        on status_history.conversation_id = kpi_conversations.conversation_id

)

select * from final
