-- The floor for the dbt build: one hand-written `create table as select` per
-- contract mart (shared/mart-contract.md), straight from the lake, no models,
-- no tests, no incremental logic. {raw} is the lake schema, {floor} the output.
-- Each statement starts with a `-- mart:` line; bench/floor.py times them apart.

-- mart: latest_conversations
-- The latest copy of each conversation: greatest (extracted_at, lake_id). Kept as
-- a work table because three marts read it, as any hand-written job would do.
create table {floor}.latest_conversations as
select lake.entity_id as conversation_id, lake.payload
from {raw}.conversations as lake
inner join (
    select distinct on (entity_id) lake_id
    from {raw}.conversations
    order by entity_id, extracted_at desc, lake_id desc
) as latest on lake.lake_id = latest.lake_id;

-- mart: tags
create table {floor}.tags as
with latest as (
    select distinct on (entity_id) entity_id, payload
    from {raw}.tags
    order by entity_id, extracted_at desc, lake_id desc
),
bridge as (
    select (tag ->> 'id')::bigint as tag_id, count(distinct c.conversation_id) as n
    from {floor}.latest_conversations as c
    cross join lateral jsonb_array_elements(coalesce(c.payload -> 'tags', '[]')) as tag
    group by 1
)
select
    latest.entity_id as tag_id,
    latest.payload ->> 'name' as tag_name,
    latest.payload ->> 'slug' as tag_slug,
    latest.payload ->> 'color' as tag_color,
    (latest.payload ->> 'createdAt')::timestamptz as created_at,
    (latest.payload ->> 'updatedAt')::timestamptz as updated_at,
    (latest.payload ->> 'ticketCount')::integer as ticket_count,
    coalesce(bridge.n, 0) as conversation_count
from latest
left join bridge on latest.entity_id = bridge.tag_id;

-- mart: conversation_tags
create table {floor}.conversation_tags as
select distinct on (c.conversation_id, (tag ->> 'id')::bigint)
    c.conversation_id,
    (tag ->> 'id')::bigint as tag_id,
    coalesce(tags.tag_name, tag ->> 'tag') as tag_name,
    coalesce(tags.tag_color, tag ->> 'color') as tag_color
from {floor}.latest_conversations as c
cross join lateral jsonb_array_elements(coalesce(c.payload -> 'tags', '[]')) as tag
left join {floor}.tags as tags on (tag ->> 'id')::bigint = tags.tag_id
order by c.conversation_id, (tag ->> 'id')::bigint;

-- mart: threads
create table {floor}.threads as
select
    (t ->> 'id')::bigint as thread_id,
    c.conversation_id,
    t ->> 'type' as thread_type,
    t ->> 'status' as status,
    t ->> 'state' as state,
    (t ->> 'createdAt')::timestamptz as created_at,
    (t -> 'createdBy' ->> 'id')::bigint as created_by_id,
    t -> 'createdBy' ->> 'type' as created_by_type,
    t -> 'createdBy' ->> 'email' as created_by_email,
    t -> 'source' ->> 'type' as source_type,
    t -> 'source' ->> 'via' as source_via,
    coalesce(t ->> 'type' in ('reply', 'message') and t -> 'createdBy' ->> 'type' = 'user', false)
        as is_user_reply
from {floor}.latest_conversations as c
cross join lateral jsonb_array_elements(
    coalesce(c.payload -> '_embedded' -> 'threads', '[]')
) as t;

-- mart: conversations
create table {floor}.conversations as
with gone as (
    select entity_id, max(detected_at) as detected_at
    from {raw}.conversation_tombstones
    group by entity_id
),
extracted as (
    select entity_id, max(extracted_at) as extracted_at
    from {raw}.conversations
    group by entity_id
),
thread_counts as (
    select
        conversation_id,
        count(*) filter (where thread_type = 'customer') as customer_message_count,
        count(*) filter (where is_user_reply) as reply_count,
        count(*) filter (where thread_type = 'note') as note_count
    from {floor}.threads
    group by conversation_id
),
tag_counts as (
    select conversation_id, count(*) as tag_count
    from {floor}.conversation_tags
    group by conversation_id
),
base as (
    -- jsonb_to_record reads each payload once; a `payload ->> 'field'` per
    -- column would decompress the whole toasted payload again for every column.
    select c.conversation_id, p.*
    from {floor}.latest_conversations as c
    cross join lateral jsonb_to_record(c.payload) as p (
        "number" bigint, "mailboxId" bigint, "folderId" bigint, "type" text, "status" text,
        "state" text, "subject" text, "source" jsonb, "createdAt" timestamptz,
        "closedAt" timestamptz, "userUpdatedAt" timestamptz, "customerWaitingSince" jsonb,
        "createdBy" jsonb, "closedBy" bigint, "closedByUser" jsonb, "assignee" jsonb,
        "primaryCustomer" jsonb, "threads" integer
    )
),
first_response as (
    select b.conversation_id, min(t.created_at) as first_response_at
    from base as b
    inner join {floor}.threads as t
        on b.conversation_id = t.conversation_id and t.is_user_reply and t.created_at >= b."createdAt"
    where b."createdBy" ->> 'type' is distinct from 'user'
    group by b.conversation_id
)
select
    b.conversation_id,
    b.number as conversation_number,
    b."mailboxId" as mailbox_id,
    b."folderId" as folder_id,
    b.type,
    b.status,
    b.state,
    b.subject,
    nullif(btrim(regexp_replace(lower(b.subject), '^\s*((re|fwd?)\s*:\s*)+', '')), '')
        as subject_normalized,
    b.source ->> 'type' as source_type,
    b.source ->> 'via' as source_via,
    b."createdAt" as created_at,
    b."closedAt" as closed_at,
    b."userUpdatedAt" as user_updated_at,
    (b."customerWaitingSince" ->> 'time')::timestamptz as customer_waiting_since_at,
    (b."createdBy" ->> 'id')::bigint as created_by_id,
    b."createdBy" ->> 'type' as created_by_type,
    b."createdBy" ->> 'email' as created_by_email,
    coalesce((b."closedByUser" ->> 'id')::bigint, b."closedBy") as closed_by_user_id,
    b."closedByUser" ->> 'email' as closed_by_user_email,
    (b.assignee ->> 'id')::bigint as assignee_id,
    b.assignee ->> 'email' as assignee_email,
    (b."primaryCustomer" ->> 'id')::bigint as primary_customer_id,
    b."primaryCustomer" ->> 'email' as primary_customer_email,
    b.threads as thread_count,
    coalesce(tc.customer_message_count, 0) as customer_message_count,
    coalesce(tc.reply_count, 0) as reply_count,
    coalesce(tc.note_count, 0) as note_count,
    coalesce(tg.tag_count, 0) as tag_count,
    fr.first_response_at,
    extract(epoch from fr.first_response_at - b."createdAt") / 60 as first_response_minutes,
    case when b.status = 'closed'
        then extract(epoch from b."closedAt" - b."createdAt") / 60 end as resolution_minutes,
    coalesce(b.status = 'spam', false) as is_spam,
    coalesce(b.state = 'deleted', false)
        or coalesce(gone.detected_at > extracted.extracted_at, false) as is_deleted,
    coalesce(b."createdBy" ->> 'type' = 'user', false) as is_internal,
    coalesce(b."closedByUser" ->> 'email' = 'none@nowhere.com', false) as is_closed_by_system
from base as b
inner join extracted on b.conversation_id = extracted.entity_id
left join gone on b.conversation_id = gone.entity_id
left join thread_counts as tc on b.conversation_id = tc.conversation_id
left join tag_counts as tg on b.conversation_id = tg.conversation_id
left join first_response as fr on b.conversation_id = fr.conversation_id;

-- mart: mailboxes
create table {floor}.mailboxes as
select distinct on (entity_id)
    entity_id as mailbox_id,
    payload ->> 'name' as mailbox_name,
    payload ->> 'slug' as mailbox_slug,
    payload ->> 'email' as mailbox_email,
    (payload ->> 'createdAt')::timestamptz as created_at,
    (payload ->> 'updatedAt')::timestamptz as updated_at
from {raw}.mailboxes
order by entity_id, extracted_at desc, lake_id desc;

-- mart: users
create table {floor}.users as
select distinct on (entity_id)
    entity_id as user_id,
    payload ->> 'firstName' as first_name,
    payload ->> 'lastName' as last_name,
    payload ->> 'email' as email,
    payload ->> 'role' as role,
    payload ->> 'type' as user_type,
    payload ->> 'timezone' as timezone,
    (payload ->> 'createdAt')::timestamptz as created_at,
    (payload ->> 'updatedAt')::timestamptz as updated_at
from {raw}.users
order by entity_id, extracted_at desc, lake_id desc;
