-- Closed (latest complete week)
-- Superset chart overview_big_closed (big_number) on dataset weekly_summary.
-- The account's weekly status line; medians in hours.
with

weekly_summary as (

    select
        week_start,
        conversations_received,
        conversations_closed,
        conversations_open_at_period_end,
        first_response_minutes_median / 60.0 as first_response_hours_median,
        resolution_minutes_median / 60.0 as resolution_hours_median,
        is_complete
    from helpscout.weekly_summary

)

select
    date_trunc('week', week_start)::date as week_start,
    sum(conversations_closed) as closed
from weekly_summary
where is_complete = true
group by 1
order by 1
limit 10000
