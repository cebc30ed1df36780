{#- Conversations received per day (reporting zone) whose subject marks them as
    automatic replies (out of office and similar; `auto_reply_subject_patterns`). -#}
{{ config(indexes=[{'columns': ['date_day'], 'unique': true}]) }}

with

kpi_conversations as (

    select * from {{ ref('int_kpi__conversations') }}

),

days as (

    {{ kpi_account_spine('day') }}

),

received as (

    select
        date_trunc('day', created_at_local)::date as date_day,
        count(*) as conversations_received,
        count(*) filter (where {{ kpi_is_auto_reply('subject') }}) as auto_reply_conversations
    from kpi_conversations
    group by date_day

),

watermark as (

    select * from {{ ref('int_helpscout__data_watermark') }}

),

final as (

    select
        days.period_start as date_day,
        coalesce(received.auto_reply_conversations, 0) as auto_reply_conversations,
        coalesce(received.conversations_received, 0) as conversations_received,
        round(
            coalesce(received.auto_reply_conversations, 0)::numeric
            / nullif(received.conversations_received, 0),
            4
        ) as auto_reply_share,
        {{ kpi_is_complete(kpi_period_end('days.period_start', '1 day')) }} as is_complete

    from days
    cross join watermark
    left join received
        on days.period_start = received.date_day

)

select * from final
