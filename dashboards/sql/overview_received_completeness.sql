-- Received per week (the week in progress marked)
-- Superset chart overview_received_completeness (echarts_timeseries_bar) on dataset mailbox_weekly_periods.
-- mailbox_weekly with its is_complete flag spelled out, to mark the week in progress.
with

mailbox_weekly_periods as (

    select
        mailbox_weekly.week_start,
        mailboxes.mailbox_name,
        mailbox_weekly.conversations_received,
        mailbox_weekly.is_complete,
        case
            when mailbox_weekly.is_complete then 'complete week'
            else 'week in progress (incomplete)'
        end as period_state
    from helpscout.mailbox_weekly
    inner join helpscout.mailboxes on mailbox_weekly.mailbox_id = mailboxes.mailbox_id

)

select
    date_trunc('week', week_start)::date as week_start,
    period_state,
    sum(conversations_received) as received
from mailbox_weekly_periods
group by 1, 2
order by 1, 2
limit 10000
