-- Median resolution per week (hours)
-- Superset chart overview_resolution_median (echarts_timeseries_line) on dataset mailbox_weekly.
-- mailbox_weekly with mailbox names; medians in hours.
with

mailbox_weekly as (

    select
        mailbox_weekly.week_start,
        mailbox_weekly.mailbox_id,
        mailboxes.mailbox_name,
        mailbox_weekly.conversations_received,
        mailbox_weekly.conversations_closed,
        mailbox_weekly.conversations_open_at_period_end,
        mailbox_weekly.first_response_minutes_median / 60.0 as first_response_hours_median,
        mailbox_weekly.resolution_minutes_median / 60.0 as resolution_hours_median
    from helpscout.mailbox_weekly
    inner join helpscout.mailboxes on mailbox_weekly.mailbox_id = mailboxes.mailbox_id

)

select
    date_trunc('week', week_start)::date as week_start,
    mailbox_name,
    max(resolution_hours_median) as median_resolution_hours
from mailbox_weekly
group by 1, 2
order by 1, 2
limit 10000
