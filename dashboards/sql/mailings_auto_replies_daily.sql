-- Auto-replies per day (all mailboxes)
-- Superset chart mailings_auto_replies_daily (echarts_timeseries_bar) on dataset auto_replies_daily.
-- Automatic replies (out of office and similar) per day, account-wide.
with

auto_replies_daily as (

    select
        date_day,
        auto_reply_conversations,
        conversations_received,
        auto_reply_share
    from helpscout.auto_replies_daily

)

select
    date_day::date as date_day,
    sum(auto_reply_conversations) as auto_replies
from auto_replies_daily
group by 1
order by 1
limit 10000
