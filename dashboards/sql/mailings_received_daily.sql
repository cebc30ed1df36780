-- Received per day and mailbox
-- Superset chart mailings_received_daily (echarts_timeseries_line) on dataset mailbox_daily.
-- mailbox_daily with mailbox names.
with

mailbox_daily as (

    select
        mailbox_daily.date_day,
        mailboxes.mailbox_name,
        mailbox_daily.conversations_received,
        mailbox_daily.conversations_closed
    from helpscout.mailbox_daily
    inner join helpscout.mailboxes on mailbox_daily.mailbox_id = mailboxes.mailbox_id

)

select
    date_day::date as date_day,
    mailbox_name,
    sum(conversations_received) as received
from mailbox_daily
group by 1, 2
order by 1, 2
limit 10000
