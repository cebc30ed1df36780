-- Backlog at each day's end (open and pending)
-- Superset chart overview_backlog_daily (echarts_timeseries_line) on dataset mailbox_backlog_daily.
-- The backlog as it was at each day's end, per mailbox.
with

mailbox_backlog_daily as (

    select
        mailbox_backlog_daily.date_day,
        mailboxes.mailbox_name,
        mailbox_backlog_daily.open_at_day_end,
        mailbox_backlog_daily.pending_at_day_end,
        mailbox_backlog_daily.conversations_received,
        mailbox_backlog_daily.conversations_closed,
        mailbox_backlog_daily.conversations_reopened,
        mailbox_backlog_daily.is_complete
    from helpscout.mailbox_backlog_daily
    inner join helpscout.mailboxes on mailbox_backlog_daily.mailbox_id = mailboxes.mailbox_id

)

select
    date_day::date as date_day,
    mailbox_name,
    sum(open_at_day_end) as open_at_day_end
from mailbox_backlog_daily
group by 1, 2
order by 1, 2
limit 10000
