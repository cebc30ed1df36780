-- Slowest tags by median resolution (hours)
-- Superset chart topics_slowest_tags (table) on dataset tagged_conversations.
-- Closed conversations with each of their tags (KPI filter: no spam, deleted, internal or system-closed).
with

tagged_conversations as (

    select
        conversation_tags.tag_name,
        mailboxes.mailbox_name,
        conversations.conversation_id,
        conversations.closed_at,
        conversations.resolution_minutes / 60.0 as resolution_hours
    from helpscout.conversation_tags
    inner join helpscout.conversations
        on conversation_tags.conversation_id = conversations.conversation_id
    inner join helpscout.mailboxes on conversations.mailbox_id = mailboxes.mailbox_id
    where
        conversations.status = 'closed'
        and conversations.resolution_minutes is not null
        and not conversations.is_spam
        and not conversations.is_deleted
        and not conversations.is_internal
        and not conversations.is_closed_by_system

)

select
    tag_name,
    round(cast(percentile_cont(0.5) within group (order by resolution_hours) as numeric), 1) as median_resolution_hours,
    count(*) as closed_conversations
from tagged_conversations
group by 1
having count(*) >= 5
order by median_resolution_hours desc
limit 25
