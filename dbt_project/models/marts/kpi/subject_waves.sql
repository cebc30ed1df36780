{#- Normalized subjects that arrive at least `subject_wave_min_conversations`
    times in one month (reporting zone, by creation): replies to a mass mailing. -#}
{{ config(indexes=[{'columns': ['month_start', 'subject_normalized'], 'unique': true}]) }}

with

kpi_conversations as (

    select * from {{ ref('int_kpi__conversations') }}

),

by_month as (

    select
        date_trunc('month', created_at_local)::date as month_start,
        subject_normalized,
        count(*) as conversations_received,
        count(distinct mailbox_id) as mailbox_count,
        min(created_at) as first_arrival_at,
        max(created_at) as last_arrival_at
    from kpi_conversations
    where subject_normalized is not null
    group by month_start, subject_normalized

),

final as (

    select
        month_start,
        subject_normalized,
        conversations_received,
        mailbox_count,
        first_arrival_at,
        last_arrival_at,
        extract(epoch from last_arrival_at - first_arrival_at) / 60 as wave_span_minutes
    from by_month
    where conversations_received >= {{ var('subject_wave_min_conversations') | int }}

)

select * from final
