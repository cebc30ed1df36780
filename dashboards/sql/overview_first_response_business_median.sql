-- Median first response per week, business hours
-- Superset chart overview_first_response_business_median (echarts_timeseries_line) on dataset conversations_business_time.
-- Conversations (KPI filter: no spam, deleted, internal or system-closed) with their first-response and resolution times in business hours.
with

conversations_business_time as (

    select
        conversations.conversation_id,
        mailboxes.mailbox_name,
        conversations.created_at,
        conversations.first_response_at,
        conversations.closed_at,
        conversations.first_response_business_minutes / 60.0 as first_response_business_hours,
        conversations.resolution_business_minutes / 60.0 as resolution_business_hours
    from helpscout.conversations
    inner join helpscout.mailboxes on conversations.mailbox_id = mailboxes.mailbox_id
    where
        not conversations.is_spam
        and not conversations.is_deleted
        and not conversations.is_internal
        and not conversations.is_closed_by_system

)

select
    date_trunc('week', first_response_at)::date as first_response_at,
    mailbox_name,
    round(cast(percentile_cont(0.5) within group (order by first_response_business_hours) as numeric), 2) as median_first_response_business_hours
from conversations_business_time
where first_response_at is not null
group by 1, 2
order by 1, 2
limit 10000
