{#- Conversations received per mailbox, calendar year and day of the month
    (1-31), a second grain of the arrival curve kept in its own model. -#}
{{ config(indexes=[{'columns': ['mailbox_id', 'calendar_year', 'day_of_month'], 'unique': true}]) }}

with

kpi_conversations as (

    select * from {{ ref('int_kpi__conversations') }}

),

years as (

    {{ kpi_mailbox_spine('year') }}

),

-- How many months of each year have that day number (the 29th: 11 or 12, the
-- 30th: 11, the 31st: 7), so a chart can show a fair average per month.
year_days as (

    select
        extract(year from calendar_days.calendar_day)::integer as calendar_year,
        extract(day from calendar_days.calendar_day)::integer as day_of_month,
        count(*) as months_with_day
    from (select distinct period_start from years) as distinct_years
    cross join
        lateral generate_series(
            distinct_years.period_start::timestamp,
            distinct_years.period_start + interval '1 year' - interval '1 day',
            interval '1 day'
        ) as calendar_days (calendar_day)
    group by calendar_year, day_of_month

),

spine as (

    select
        years.mailbox_id,
        year_days.calendar_year,
        year_days.day_of_month,
        year_days.months_with_day
    from years
    inner join year_days
        on extract(year from years.period_start) = year_days.calendar_year

),

received as (

    select
        mailbox_id,
        extract(year from created_at_local)::integer as calendar_year,
        extract(day from created_at_local)::integer as day_of_month,
        count(*) as conversations_received
    from kpi_conversations
    group by mailbox_id, calendar_year, day_of_month

),

final as (

    select
        spine.mailbox_id,
        spine.calendar_year,
        spine.day_of_month,
        spine.months_with_day,
        coalesce(received.conversations_received, 0) as conversations_received

    from spine
    left join received
        on
            spine.mailbox_id = received.mailbox_id
            and spine.calendar_year = received.calendar_year
            and spine.day_of_month = received.day_of_month

)

select * from final
