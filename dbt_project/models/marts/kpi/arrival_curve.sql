{#- Conversations received per mailbox, calendar year, ISO weekday and hour of
    day: the heat map of when work arrives. Every cell of every year from the
    mailbox's first activity to the account's latest is present (zero when quiet). -#}
{{ config(indexes=[{'columns': ['mailbox_id', 'calendar_year', 'iso_day_of_week', 'hour_of_day'], 'unique': true}]) }}

with

kpi_conversations as (

    select * from {{ ref('int_kpi__conversations') }}

),

years as (

    {{ kpi_mailbox_spine('year') }}

),

spine as (

    select
        years.mailbox_id,
        extract(year from years.period_start)::integer as calendar_year,
        weekdays.iso_day_of_week,
        hours.hour_of_day
    from years
    cross join generate_series(1, 7) as weekdays (iso_day_of_week)
    cross join generate_series(0, 23) as hours (hour_of_day)

),

received as (

    select
        mailbox_id,
        extract(year from created_at_local)::integer as calendar_year,
        extract(isodow from created_at_local)::integer as iso_day_of_week,
        extract(hour from created_at_local)::integer as hour_of_day,
        count(*) as conversations_received
    from kpi_conversations
    group by mailbox_id, calendar_year, iso_day_of_week, hour_of_day

),

final as (

    select
        spine.mailbox_id,
        spine.calendar_year,
        spine.iso_day_of_week,
        spine.hour_of_day,
        -- ISO weekday 1 is Monday; 2001-01-01 was a Monday.
        trim(to_char(date '2001-01-01' + spine.iso_day_of_week - 1, 'Day')) as day_name,
        coalesce(received.conversations_received, 0) as conversations_received

    from spine
    left join received
        on
            spine.mailbox_id = received.mailbox_id
            and spine.calendar_year = received.calendar_year
            and spine.iso_day_of_week = received.iso_day_of_week
            and spine.hour_of_day = received.hour_of_day

)

select * from final
