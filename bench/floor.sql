-- The floor for the dbt build: one hand-written `create table as select` per
-- mart the full build makes (the contract's, status history, business time, the
-- KPI marts, anomalies...), straight from the lake, no models, no tests, no
-- incremental logic, plus a few work tables that several marts read, as any
-- hand-written job would keep. Written for the bench's settings (the default
-- vars of dbt_project.yml: UTC, Monday-Friday 09:00-17:00, no holidays, the
-- default KPI and anomaly settings) and the bench's clean payloads (plain casts).
-- {raw} is the lake schema, {floor} the output. Each statement starts with a
-- `-- mart:` line; bench/floor.py times them apart and bench/dbt_scale.py
-- compares every mart cell for cell with dbt's (on the floor's columns: all but
-- dbt's bookkeeping, lake_loaded_at and the like).

-- mart: latest_conversations
-- The latest copy of each conversation: greatest (extracted_at, lake_id). Kept as
-- a work table because three marts read it, as any hand-written job would do.
create table {floor}.latest_conversations as
select lake.entity_id as conversation_id, lake.lake_id, lake.extracted_at, lake.payload
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

-- mart: users
-- The users of the newest listing, plus the users the latest copies reference
-- (assignee, closer, thread author) that it lacks, named from the latest copy
-- that names them.
create table {floor}.users as
with latest as (
    select distinct on (entity_id) entity_id, run_id, extracted_at, lake_id, payload
    from {raw}.users
    order by entity_id, extracted_at desc, lake_id desc
),
listed as (
    select
        entity_id as user_id,
        payload ->> 'firstName' as first_name,
        payload ->> 'lastName' as last_name,
        payload ->> 'email' as email,
        payload ->> 'role' as role,
        payload ->> 'type' as user_type,
        payload ->> 'timezone' as timezone,
        (payload ->> 'createdAt')::timestamptz as created_at,
        (payload ->> 'updatedAt')::timestamptz as updated_at,
        true as is_listed
    from latest
    where run_id = (select run_id from latest order by extracted_at desc, lake_id desc limit 1)
),
refs as (
    -- one read of each payload for the assignee and closer; thread authors from threads
    select r.user_id, c.extracted_at, c.lake_id, r.is_named
    from {floor}.latest_conversations as c
    cross join lateral jsonb_to_record(c.payload) as p (assignee jsonb, "closedByUser" jsonb,
                                                         "closedBy" bigint)
    cross join lateral (values
        ((p.assignee ->> 'id')::bigint, true),
        (coalesce((p."closedByUser" ->> 'id')::bigint, p."closedBy"),
         p."closedByUser" ->> 'email' is not null)
    ) as r (user_id, is_named)
    where r.user_id is not null
    union all
    select t.created_by_id, c.extracted_at, c.lake_id, true
    from {floor}.threads as t
    inner join {floor}.latest_conversations as c on t.conversation_id = c.conversation_id
    where t.created_by_type = 'user' and t.created_by_id is not null
),
unlisted as (
    select distinct on (refs.user_id) refs.user_id, refs.lake_id
    from refs
    where not exists (select from listed where listed.user_id = refs.user_id)
    order by refs.user_id, refs.is_named desc, refs.extracted_at desc, refs.lake_id desc
),
referenced as (
    -- named as the chosen copy names them: assignee, else closer, else first thread
    select
        u.user_id,
        person ->> 'first' as first_name,
        person ->> 'last' as last_name,
        person ->> 'email' as email,
        null::text as role,
        person ->> 'type' as user_type,
        null::text as timezone,
        null::timestamptz as created_at,
        null::timestamptz as updated_at,
        false as is_listed
    from unlisted as u
    inner join {floor}.latest_conversations as c on u.lake_id = c.lake_id
    cross join lateral (select coalesce(
        case when c.payload -> 'assignee' ->> 'id' = u.user_id::text then c.payload -> 'assignee' end,
        case when c.payload -> 'closedByUser' ->> 'id' = u.user_id::text
            then c.payload -> 'closedByUser' end,
        jsonb_path_query_first(c.payload,
            '$._embedded.threads[*].createdBy ? (@.id == $id && @.type == "user")',
            jsonb_build_object('id', u.user_id))
    ) as person) as named
)
select * from listed
union all
select * from referenced;

-- mart: conversation_status_history
-- Intervals from the status threads of the latest copy, in (created_at, thread_id)
-- order: a new interval where the status differs from the one in force, the
-- first at creation; 'active' from creation when no thread set one; an
-- 'observed' last interval when the copy's status is not the threads' last.
create table {floor}.conversation_status_history as
with conv as (
    select
        c.conversation_id,
        c.extracted_at,
        c.payload ->> 'status' as status,
        (c.payload ->> 'createdAt')::timestamptz as created_at,
        (c.payload ->> 'closedAt')::timestamptz as closed_at
    from {floor}.latest_conversations as c
),
ranked as (
    select
        t.conversation_id,
        t.thread_id,
        t.status,
        t.created_at,
        row_number() over w as rank,
        lag(t.status) over w as previous,
        count(*) over (partition by t.conversation_id) as thread_total
    from {floor}.threads as t
    where t.status in ('active', 'pending', 'closed', 'spam') and t.created_at is not null
    window w as (partition by t.conversation_id order by t.created_at, t.thread_id)
),
ends as (
    select conversation_id, status as end_status, created_at as last_at
    from ranked
    where rank = thread_total
),
starts as (
    select
        r.conversation_id,
        case when r.rank = 1 then c.created_at else greatest(r.created_at, c.created_at) end
            as valid_from,
        r.status,
        r.thread_id as set_by_thread_id,
        'thread' as source,
        r.rank
    from ranked as r
    inner join conv as c on r.conversation_id = c.conversation_id
    where c.created_at is not null and (r.rank = 1 or r.status <> r.previous)
    union all
    select c.conversation_id, c.created_at, 'active', null, 'thread', 0
    from conv as c
    where c.created_at is not null
        and not exists (select from ends as e where e.conversation_id = c.conversation_id)
    union all
    select
        c.conversation_id,
        greatest(c.created_at, case
            when c.status = 'closed' and c.closed_at > greatest(e.last_at, c.created_at)
                then c.closed_at
            else greatest(coalesce((
                select min(lake.extracted_at)
                from {raw}.conversations as lake
                where lake.entity_id = c.conversation_id
                    and lake.payload ->> 'status' = c.status
                    and (e.last_at is null or lake.extracted_at > e.last_at)
            ), c.extracted_at), e.last_at)
        end),
        c.status,
        null,
        'observed',
        9223372036854775807
    from conv as c
    left join ends as e on c.conversation_id = e.conversation_id
    where c.created_at is not null
        and c.status in ('active', 'pending', 'closed', 'spam')
        and c.status <> coalesce(e.end_status, 'active')
)
select
    conversation_id,
    row_number() over w as interval_number,
    status,
    valid_from,
    lead(valid_from) over w as valid_to,
    lead(valid_from) over w is null as is_current,
    set_by_thread_id,
    source,
    lag(status) over w as previous_status,
    coalesce(lag(status) over w = 'closed' and status in ('active', 'pending'), false)
        as is_reopening
from starts
window w as (partition by conversation_id order by rank);

-- mart: data_watermark
-- Work table: the end of the gapless chain of completed conversation windows,
-- up to which the lake has every change (null before the first window).
create table {floor}.data_watermark as
with windows as (
    select window_start, window_end,
        max(window_end) over (order by window_start, window_end
                              rows between unbounded preceding and 1 preceding) as reach
    from {raw}.load_windows
    where stream = 'conversations' and status = 'completed' and window_start is not null
)
select max(window_end) as at
from windows
where window_start < coalesce(
    (select min(window_start) from windows where window_start > reach + interval '1 second'),
    'infinity');

-- mart: conversations
-- Business time is counted on the default schedule (Monday to Friday, 09:00-17:00
-- in UTC, the bench's vars) with no holidays (the bench's holidays seed is
-- empty): a day table with the open minutes before each day, so an instant's
-- business clock is one hash join on its date.
create table {floor}.conversations as
with gone as (
    select distinct on (entity_id) entity_id, reason, merged_into_id, detected_at
    from {raw}.conversation_tombstones
    order by entity_id, detected_at desc, lake_id desc
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
reopenings as (
    select conversation_id, count(*) as reopen_count
    from {floor}.conversation_status_history
    where is_reopening
    group by conversation_id
),
base as (
    -- jsonb_to_record reads each payload once; a `payload ->> 'field'` per
    -- column would decompress the whole toasted payload again for every column.
    select c.conversation_id, c.extracted_at, p.*
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
),
watermark as (
    select at from {floor}.data_watermark
),
days as (
    select
        day::date as day,
        case when extract(isodow from day) <= 5 then day + interval '9 hours' end as opens_at,
        case when extract(isodow from day) <= 5 then day + interval '17 hours' end as closes_at,
        480 * (count(*) filter (where extract(isodow from day) <= 5) over (
            order by day rows between unbounded preceding and 1 preceding)) as minutes_before
    from generate_series(
        (select (min("createdAt") - interval '2 days')::date from base)::timestamp at time zone 'UTC',
        (select (greatest(max("createdAt"), max("closedAt"), max("userUpdatedAt"), now())
                 + interval '1 year')::date from base)::timestamp at time zone 'UTC',
        interval '1 day'
    ) as day
),
spans as (
    select
        b.conversation_id,
        b."createdAt" as created_at,
        case when fr.first_response_at is not null
            then greatest(fr.first_response_at, b."createdAt") end as responded,
        case when b.status = 'closed' and b."closedAt" is not null
            then greatest(b."closedAt", b."createdAt") end as resolved,
        case when fr.first_response_at is null and watermark.at is not null
            then greatest(watermark.at, b."createdAt") end as waiting
    from base as b
    cross join watermark
    left join first_response as fr on b.conversation_id = fr.conversation_id
),
clocks as (
    select
        spans.conversation_id,
        d_created_at.minutes_before + case when spans.created_at > d_created_at.opens_at then extract(epoch from least(spans.created_at, d_created_at.closes_at) - d_created_at.opens_at) / 60 else 0 end as created_clock,
        d_responded.minutes_before + case when spans.responded > d_responded.opens_at then extract(epoch from least(spans.responded, d_responded.closes_at) - d_responded.opens_at) / 60 else 0 end as responded_clock,
        d_resolved.minutes_before + case when spans.resolved > d_resolved.opens_at then extract(epoch from least(spans.resolved, d_resolved.closes_at) - d_resolved.opens_at) / 60 else 0 end as resolved_clock,
        d_waiting.minutes_before + case when spans.waiting > d_waiting.opens_at then extract(epoch from least(spans.waiting, d_waiting.closes_at) - d_waiting.opens_at) / 60 else 0 end as waiting_clock
    from spans
    left join days as d_created_at on (spans.created_at at time zone 'UTC')::date = d_created_at.day
    left join days as d_responded on (spans.responded at time zone 'UTC')::date = d_responded.day
    left join days as d_resolved on (spans.resolved at time zone 'UTC')::date = d_resolved.day
    left join days as d_waiting on (spans.waiting at time zone 'UTC')::date = d_waiting.day
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
    regexp_replace(lower(b.subject), '^\s*((re|fwd?)\s*:\s*)*|\s+$', '', 'g') as subject_normalized,
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
    coalesce(b."closedByUser" ->> 'email', closer.email) as closed_by_user_email,
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
    clocks.responded_clock - clocks.created_clock as first_response_business_minutes,
    clocks.resolved_clock - clocks.created_clock as resolution_business_minutes,
    case
        when coalesce(b."createdBy" ->> 'type' = 'user', false) or b."createdAt" is null then null
        when clocks.responded_clock is not null then clocks.responded_clock - clocks.created_clock > 480
        else coalesce(clocks.waiting_clock - clocks.created_clock > 480, false)
    end as is_first_response_sla_breached,
    coalesce(b.status = 'spam', false) as is_spam,
    coalesce(b.state = 'deleted', false) or removed.reason is not null as is_deleted,
    coalesce(b."createdBy" ->> 'type' = 'user', false) as is_internal,
    coalesce(lower(btrim(coalesce(b."closedByUser" ->> 'email', closer.email))) = 'none@nowhere.com',
             false) as is_closed_by_system,
    coalesce(b.status = 'closed' and tc.reply_count > 0, false) as is_resolved,
    coalesce(ro.reopen_count, 0) as reopen_count,
    removed.reason as removal_reason,
    removed.merged_into_id as merged_into_conversation_id,
    b.extracted_at
from base as b
left join gone as removed
    on b.conversation_id = removed.entity_id and removed.detected_at > b.extracted_at
left join thread_counts as tc on b.conversation_id = tc.conversation_id
left join tag_counts as tg on b.conversation_id = tg.conversation_id
left join reopenings as ro on b.conversation_id = ro.conversation_id
left join first_response as fr on b.conversation_id = fr.conversation_id
left join clocks on b.conversation_id = clocks.conversation_id
left join {floor}.users as closer
    on coalesce((b."closedByUser" ->> 'id')::bigint, b."closedBy") = closer.user_id;

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

-- mart: conversation_custom_fields
-- Field values of the latest copy (an empty value is none), named by the
-- definitions of the latest completed fields listing, else by the copy itself.
create table {floor}.conversation_custom_fields as
with definitions as (
    select distinct on (entity_id) entity_id as field_id, payload ->> 'name' as field_name
    from {raw}.mailbox_fields
    where run_id = (
        select run_id from {raw}.load_windows
        where stream = 'fields' and status = 'completed'
        order by finished_at desc, window_id desc
        limit 1
    )
    order by entity_id, extracted_at desc, lake_id desc
),
fields as (
    select distinct on (c.conversation_id, (f.value ->> 'id')::bigint)
        c.conversation_id,
        (f.value ->> 'id')::bigint as field_id,
        f.value ->> 'name' as field_name,
        f.value ->> 'value' as value,
        coalesce(nullif(f.value ->> 'text', ''), f.value ->> 'value') as text
    from {floor}.latest_conversations as c
    cross join lateral jsonb_array_elements(
        case when jsonb_typeof(c.payload -> 'customFields') = 'array'
            then c.payload -> 'customFields' else '[]' end
    ) with ordinality as f (value, position)
    where jsonb_typeof(f.value) = 'object' and f.value ->> 'id' is not null
        and nullif(f.value ->> 'value', '') is not null
    order by c.conversation_id, (f.value ->> 'id')::bigint, f.position
)
select
    fields.conversation_id,
    fields.field_id,
    coalesce(definitions.field_name, fields.field_name) as field_name,
    fields.value,
    fields.text
from fields
left join definitions on fields.field_id = definitions.field_id;

-- mart: customers
create table {floor}.customers as
with latest as (
    select distinct on (entity_id) entity_id, payload
    from {raw}.customers
    order by entity_id, extracted_at desc, lake_id desc
),
counts as (
    select (c.payload -> 'primaryCustomer' ->> 'id')::bigint as customer_id, count(*) as n
    from {floor}.latest_conversations as c
    where not exists (
        select from {raw}.conversation_tombstones as gone
        where gone.entity_id = c.conversation_id and gone.detected_at > c.extracted_at
    )
    group by 1
)
select
    latest.entity_id as customer_id,
    nullif(latest.payload ->> 'firstName', '') as first_name,
    nullif(latest.payload ->> 'lastName', '') as last_name,
    nullif(latest.payload ->> 'organization', '') as organization,
    nullif(latest.payload -> '_embedded' -> 'emails' -> 0 ->> 'value', '') as primary_email,
    (latest.payload ->> 'createdAt')::timestamptz as created_at,
    (latest.payload ->> 'updatedAt')::timestamptz as updated_at,
    coalesce(counts.n, 0) as conversation_count
from latest
left join counts on latest.entity_id = counts.customer_id;

-- mart: teams
-- The teams of the newest listing, with their members in the newest members unit.
create table {floor}.teams as
with latest as (
    select distinct on (entity_id) entity_id, run_id, extracted_at, lake_id, payload
    from {raw}.teams
    order by entity_id, extracted_at desc, lake_id desc
),
members as (
    select team_id, count(distinct entity_id) as n
    from {raw}.team_members
    where team_id is not null and run_id = (
        select run_id from {raw}.load_windows
        where stream = 'team_members' and status = 'completed'
        order by finished_at desc, window_id desc
        limit 1
    )
    group by team_id
)
select
    latest.entity_id as team_id,
    latest.payload ->> 'name' as team_name,
    latest.payload ->> 'timezone' as timezone,
    (latest.payload ->> 'createdAt')::timestamptz as created_at,
    (latest.payload ->> 'updatedAt')::timestamptz as updated_at,
    coalesce(members.n, 0) as member_count
from latest
left join members on latest.entity_id = members.team_id
where latest.run_id = (
    select run_id from latest order by extracted_at desc, lake_id desc limit 1
);

-- mart: team_members
create table {floor}.team_members as
select distinct on (m.team_id, m.entity_id)
    m.team_id,
    m.entity_id as user_id,
    m.payload ->> 'firstName' as first_name,
    m.payload ->> 'lastName' as last_name,
    m.payload ->> 'email' as email
from {raw}.team_members as m
inner join {floor}.teams as teams on m.team_id = teams.team_id
where m.run_id = (
    select run_id from {raw}.load_windows
    where stream = 'team_members' and status = 'completed'
    order by finished_at desc, window_id desc
    limit 1
)
order by m.team_id, m.entity_id, m.extracted_at desc, m.lake_id desc;

-- mart: satisfaction_ratings
-- Ratings in their latest state, except those of conversations found deleted.
create table {floor}.satisfaction_ratings as
select distinct on (r.entity_id)
    r.entity_id as rating_id,
    (r.payload ->> 'id')::bigint as conversation_id,
    r.entity_id as thread_id,
    (r.payload ->> 'ratingUserId')::bigint as user_id,
    (r.payload ->> 'ratingCustomerId')::bigint as customer_id,
    case lower(coalesce(r.payload ->> 'rating', r.payload ->> 'ratingId'))
        when '1' then 'great' when 'great' then 'great'
        when '2' then 'okay' when 'ok' then 'okay' when 'okay' then 'okay'
        when '3' then 'not_good' when 'not-good' then 'not_good'
        when 'not_good' then 'not_good' when 'bad' then 'not_good'
    end as rating,
    (r.payload ->> 'ratingCreatedAt')::timestamptz as created_at
from {raw}.satisfaction_ratings as r
left join {floor}.latest_conversations as c on (r.payload ->> 'id')::bigint = c.conversation_id
left join lateral (
    select gone.reason, gone.detected_at
    from {raw}.conversation_tombstones as gone
    where gone.entity_id = c.conversation_id
    order by gone.detected_at desc, gone.lake_id desc
    limit 1
) as gone on true
where not coalesce(gone.reason = 'deleted' and gone.detected_at > c.extracted_at, false)
order by r.entity_id, r.extracted_at desc, r.lake_id desc;

-- mart: kpi_conversations
-- Work table: the conversations the KPI marts count (no spam, deleted, internal
-- or system-closed ones), with their times as reporting-zone (UTC) wall time.
create table {floor}.kpi_conversations as
select
    conversation_id, mailbox_id, status, subject, nullif(subject_normalized, '') as subject_normalized,
    thread_count, created_at, closed_at, first_response_at, first_response_minutes,
    resolution_minutes, first_response_business_minutes, resolution_business_minutes,
    is_first_response_sla_breached,
    coalesce(status = 'closed' and closed_at is not null, false) as is_closed,
    created_at at time zone 'UTC' as created_local,
    case when status = 'closed' then closed_at at time zone 'UTC' end as closed_local,
    first_response_at at time zone 'UTC' as first_response_local
from {floor}.conversations
where is_spam is not true and is_deleted is not true and created_at is not null
    and mailbox_id is not null and is_internal is not true and is_closed_by_system is not true;

-- mart: kpi_replies
-- Work table: the user replies in those conversations.
create table {floor}.kpi_replies as
select t.conversation_id, k.mailbox_id, t.created_by_id as user_id,
    t.created_at at time zone 'UTC' as created_local
from {floor}.threads as t
inner join {floor}.kpi_conversations as k on t.conversation_id = k.conversation_id
where t.is_user_reply and t.created_at is not null;

-- mart: kpi_spans
-- Work table: each mailbox's first activity and the account's last, the bounds
-- of the zero-filled periods.
create table {floor}.kpi_spans as
with activity as (
    select mailbox_id, min(created_local) as first_at, max(created_local) as last_at
    from {floor}.kpi_conversations group by mailbox_id
    union all
    select mailbox_id, min(closed_local), max(closed_local)
    from {floor}.kpi_conversations where is_closed group by mailbox_id
    union all
    select mailbox_id, min(created_local), max(created_local)
    from {floor}.kpi_replies group by mailbox_id
)
select mailbox_id, min(first_at) as first_at, max(max(last_at)) over () as account_last_at
from activity
group by mailbox_id;

-- mart: mailbox_daily
create table {floor}.mailbox_daily as
with spine as (
    select s.mailbox_id, p::date as period_start
    from {floor}.kpi_spans as s
    cross join lateral generate_series(date_trunc('day', s.first_at),
                                       date_trunc('day', s.account_last_at),
                                       interval '1 day') as p
),
received as (
    select mailbox_id, date_trunc('day', created_local)::date as period_start, count(*) as n
    from {floor}.kpi_conversations group by 1, 2
),
closed as (
    select
        mailbox_id, date_trunc('day', closed_local)::date as period_start, count(*) as n,
        (percentile_cont(0.5) within group (order by resolution_minutes))::numeric as median,
        (percentile_cont(0.9) within group (order by resolution_minutes))::numeric as p90,
        avg(resolution_minutes) as mean,
        (percentile_cont(0.5) within group (order by resolution_business_minutes))::numeric
            as business_median,
        (percentile_cont(0.9) within group (order by resolution_business_minutes))::numeric
            as business_p90
    from {floor}.kpi_conversations where is_closed group by 1, 2
),
responded as (
    select
        mailbox_id, date_trunc('day', first_response_local)::date as period_start, count(*) as n,
        (percentile_cont(0.5) within group (order by first_response_minutes))::numeric as median,
        (percentile_cont(0.9) within group (order by first_response_minutes))::numeric as p90,
        (percentile_cont(0.5) within group (order by first_response_business_minutes))::numeric
            as business_median,
        (percentile_cont(0.9) within group (order by first_response_business_minutes))::numeric
            as business_p90,
        count(*) filter (where not is_first_response_sla_breached) as within_sla
    from {floor}.kpi_conversations where first_response_at is not null group by 1, 2
),
replies as (
    select mailbox_id, date_trunc('day', created_local)::date as period_start, count(*) as n,
        count(distinct user_id) as users
    from {floor}.kpi_replies group by 1, 2
),
ratings as (
    select k.mailbox_id, date_trunc('day', r.created_at at time zone 'UTC')::date as period_start,
        count(*) as n, count(*) filter (where r.rating = 'great') as great
    from {floor}.satisfaction_ratings as r
    inner join {floor}.kpi_conversations as k on r.conversation_id = k.conversation_id
    where r.created_at is not null and r.rating is not null
    group by 1, 2
),
open_changes as (
    select k.mailbox_id, date_trunc('day', e.at at time zone 'UTC')::date as period_start,
        sum(e.change) as change
    from {floor}.conversation_status_history as h
    inner join {floor}.kpi_conversations as k on h.conversation_id = k.conversation_id
    cross join lateral (values (h.valid_from, 1), (h.valid_to, -1)) as e (at, change)
    where h.status in ('active', 'pending') and e.at is not null
    group by 1, 2
),
watermark as (
    select at from {floor}.data_watermark
)
select
    spine.mailbox_id,
    spine.period_start as date_day,
    (spine.period_start + interval '1 day') at time zone 'UTC' as period_end_at,
    coalesce(received.n, 0) as conversations_received,
    coalesce(closed.n, 0) as conversations_closed,
    coalesce(replies.n, 0) as replies_sent,
    coalesce(replies.users, 0) as users_replying,
    round(coalesce(closed.n, 0)::numeric / nullif(replies.users, 0), 2) as closed_per_replying_user,
    closed.median as resolution_minutes_median,
    closed.p90 as resolution_minutes_p90,
    closed.mean as resolution_minutes_mean,
    closed.business_median as resolution_business_minutes_median,
    closed.business_p90 as resolution_business_minutes_p90,
    coalesce(responded.n, 0) as conversations_first_responded,
    responded.median as first_response_minutes_median,
    responded.p90 as first_response_minutes_p90,
    responded.business_median as first_response_business_minutes_median,
    responded.business_p90 as first_response_business_minutes_p90,
    coalesce(responded.within_sla, 0) as conversations_first_responded_within_sla,
    responded.within_sla::numeric / nullif(responded.n, 0) as first_response_within_sla_share,
    sum(coalesce(open_changes.change, 0)) over (
        partition by spine.mailbox_id order by spine.period_start) as conversations_open_at_period_end,
    coalesce((spine.period_start + interval '1 day') at time zone 'UTC' <= watermark.at, false)
        as is_complete,
    coalesce(ratings.n, 0) as ratings_received,
    round(ratings.great::numeric / nullif(ratings.n, 0), 4) as share_rated_great
from spine
cross join watermark
left join received using (mailbox_id, period_start)
left join closed using (mailbox_id, period_start)
left join responded using (mailbox_id, period_start)
left join replies using (mailbox_id, period_start)
left join ratings using (mailbox_id, period_start)
left join open_changes using (mailbox_id, period_start);

-- mart: mailbox_weekly
create table {floor}.mailbox_weekly as
with spine as (
    select s.mailbox_id, p::date as period_start
    from {floor}.kpi_spans as s
    cross join lateral generate_series(date_trunc('week', s.first_at),
                                       date_trunc('week', s.account_last_at),
                                       interval '1 week') as p
),
received as (
    select mailbox_id, date_trunc('week', created_local)::date as period_start, count(*) as n
    from {floor}.kpi_conversations group by 1, 2
),
closed as (
    select
        mailbox_id, date_trunc('week', closed_local)::date as period_start, count(*) as n,
        (percentile_cont(0.5) within group (order by resolution_minutes))::numeric as median,
        (percentile_cont(0.9) within group (order by resolution_minutes))::numeric as p90,
        avg(resolution_minutes) as mean,
        (percentile_cont(0.5) within group (order by resolution_business_minutes))::numeric
            as business_median,
        (percentile_cont(0.9) within group (order by resolution_business_minutes))::numeric
            as business_p90
    from {floor}.kpi_conversations where is_closed group by 1, 2
),
responded as (
    select
        mailbox_id, date_trunc('week', first_response_local)::date as period_start, count(*) as n,
        (percentile_cont(0.5) within group (order by first_response_minutes))::numeric as median,
        (percentile_cont(0.9) within group (order by first_response_minutes))::numeric as p90,
        (percentile_cont(0.5) within group (order by first_response_business_minutes))::numeric
            as business_median,
        (percentile_cont(0.9) within group (order by first_response_business_minutes))::numeric
            as business_p90,
        count(*) filter (where not is_first_response_sla_breached) as within_sla
    from {floor}.kpi_conversations where first_response_at is not null group by 1, 2
),
replies as (
    select mailbox_id, date_trunc('week', created_local)::date as period_start, count(*) as n,
        count(distinct user_id) as users
    from {floor}.kpi_replies group by 1, 2
),
ratings as (
    select k.mailbox_id, date_trunc('week', r.created_at at time zone 'UTC')::date as period_start,
        count(*) as n, count(*) filter (where r.rating = 'great') as great
    from {floor}.satisfaction_ratings as r
    inner join {floor}.kpi_conversations as k on r.conversation_id = k.conversation_id
    where r.created_at is not null and r.rating is not null
    group by 1, 2
),
open_changes as (
    select k.mailbox_id, date_trunc('week', e.at at time zone 'UTC')::date as period_start,
        sum(e.change) as change
    from {floor}.conversation_status_history as h
    inner join {floor}.kpi_conversations as k on h.conversation_id = k.conversation_id
    cross join lateral (values (h.valid_from, 1), (h.valid_to, -1)) as e (at, change)
    where h.status in ('active', 'pending') and e.at is not null
    group by 1, 2
),
watermark as (
    select at from {floor}.data_watermark
)
select
    spine.mailbox_id,
    spine.period_start as week_start,
    (spine.period_start + interval '1 week') at time zone 'UTC' as period_end_at,
    coalesce(received.n, 0) as conversations_received,
    coalesce(closed.n, 0) as conversations_closed,
    coalesce(replies.n, 0) as replies_sent,
    coalesce(replies.users, 0) as users_replying,
    round(coalesce(closed.n, 0)::numeric / nullif(replies.users, 0), 2) as closed_per_replying_user,
    closed.median as resolution_minutes_median,
    closed.p90 as resolution_minutes_p90,
    closed.mean as resolution_minutes_mean,
    closed.business_median as resolution_business_minutes_median,
    closed.business_p90 as resolution_business_minutes_p90,
    coalesce(responded.n, 0) as conversations_first_responded,
    responded.median as first_response_minutes_median,
    responded.p90 as first_response_minutes_p90,
    responded.business_median as first_response_business_minutes_median,
    responded.business_p90 as first_response_business_minutes_p90,
    coalesce(responded.within_sla, 0) as conversations_first_responded_within_sla,
    responded.within_sla::numeric / nullif(responded.n, 0) as first_response_within_sla_share,
    sum(coalesce(open_changes.change, 0)) over (
        partition by spine.mailbox_id order by spine.period_start) as conversations_open_at_period_end,
    coalesce((spine.period_start + interval '1 week') at time zone 'UTC' <= watermark.at, false)
        as is_complete,
    coalesce(ratings.n, 0) as ratings_received,
    round(ratings.great::numeric / nullif(ratings.n, 0), 4) as share_rated_great
from spine
cross join watermark
left join received using (mailbox_id, period_start)
left join closed using (mailbox_id, period_start)
left join responded using (mailbox_id, period_start)
left join replies using (mailbox_id, period_start)
left join ratings using (mailbox_id, period_start)
left join open_changes using (mailbox_id, period_start);

-- mart: weekly_summary
-- The account's weeks: mailbox_weekly summed, arrivals by weekday, medians.
create table {floor}.weekly_summary as
with weeks as (
    select week_start, min(period_end_at) as period_end_at,
        sum(conversations_received) as received, sum(conversations_closed) as closed,
        sum(conversations_open_at_period_end) as open_at_end, sum(replies_sent) as replies,
        bool_and(is_complete) as is_complete
    from {floor}.mailbox_weekly
    group by week_start
),
arrivals as (
    select date_trunc('week', created_local)::date as week_start,
        count(*) filter (where extract(isodow from created_local) = 1) as mon,
        count(*) filter (where extract(isodow from created_local) = 2) as tue,
        count(*) filter (where extract(isodow from created_local) = 3) as wed,
        count(*) filter (where extract(isodow from created_local) = 4) as thu,
        count(*) filter (where extract(isodow from created_local) = 5) as fri,
        count(*) filter (where extract(isodow from created_local) = 6) as sat,
        count(*) filter (where extract(isodow from created_local) = 7) as sun
    from {floor}.kpi_conversations
    group by 1
),
closed as (
    select date_trunc('week', closed_local)::date as week_start,
        (percentile_cont(0.5) within group (order by resolution_minutes))::numeric as median
    from {floor}.kpi_conversations where is_closed group by 1
),
responded as (
    select date_trunc('week', first_response_local)::date as week_start,
        (percentile_cont(0.5) within group (order by first_response_minutes))::numeric as median
    from {floor}.kpi_conversations where first_response_at is not null group by 1
)
select
    weeks.week_start,
    weeks.period_end_at,
    'UTC'::text as reporting_timezone,
    sum(weeks.received) over (order by weeks.week_start) as conversations_total,
    weeks.received as conversations_received,
    round(weeks.received / 7.0, 2) as conversations_received_per_day,
    coalesce(arrivals.mon, 0) as received_monday,
    coalesce(arrivals.tue, 0) as received_tuesday,
    coalesce(arrivals.wed, 0) as received_wednesday,
    coalesce(arrivals.thu, 0) as received_thursday,
    coalesce(arrivals.fri, 0) as received_friday,
    coalesce(arrivals.sat, 0) as received_saturday,
    coalesce(arrivals.sun, 0) as received_sunday,
    weeks.closed as conversations_closed,
    weeks.open_at_end as conversations_open_at_period_end,
    weeks.replies as replies_sent,
    responded.median as first_response_minutes_median,
    closed.median as resolution_minutes_median,
    weeks.is_complete
from weeks
left join arrivals using (week_start)
left join closed using (week_start)
left join responded using (week_start);

-- mart: auto_replies_daily
-- The bench's auto_reply_subject_patterns var as one case-insensitive alternation.
create table {floor}.auto_replies_daily as
with days as (
    select p::date as date_day
    from (select min(first_at) as first_at, max(account_last_at) as last_at from {floor}.kpi_spans) as b
    cross join lateral generate_series(date_trunc('day', b.first_at), date_trunc('day', b.last_at),
                                       interval '1 day') as p
),
received as (
    select date_trunc('day', created_local)::date as date_day, count(*) as n,
        count(*) filter (where coalesce(subject ~* '(out of (the )?office|automatic reply'
            '|auto(matic)?[- ]?reply|autoreply|respuesta autom[aá]tica|fuera de (la )?oficina'
            '|resposta autom[aà]tica|fora de (l.)?oficina|fora do escrit[oó]rio|aus[eê]ncia'
            '|r[ée]ponse automatique|absence du bureau|automatische antwort|abwesenheitsnotiz'
            '|nicht im b[üu]ro)', false)) as auto
    from {floor}.kpi_conversations
    group by 1
)
select
    days.date_day,
    coalesce(received.auto, 0) as auto_reply_conversations,
    coalesce(received.n, 0) as conversations_received,
    round(coalesce(received.auto, 0)::numeric / nullif(received.n, 0), 4) as auto_reply_share,
    coalesce((days.date_day + interval '1 day') at time zone 'UTC'
             <= (select at from {floor}.data_watermark), false) as is_complete
from days
left join received using (date_day);

-- mart: subject_waves
create table {floor}.subject_waves as
select
    date_trunc('month', created_local)::date as month_start,
    subject_normalized,
    count(*) as conversations_received,
    count(distinct mailbox_id) as mailbox_count,
    min(created_at) as first_arrival_at,
    max(created_at) as last_arrival_at,
    extract(epoch from max(created_at) - min(created_at)) / 60 as wave_span_minutes
from {floor}.kpi_conversations
where subject_normalized is not null
group by 1, 2
having count(*) >= 10;

-- mart: kpi_settings
create table {floor}.kpi_settings as
select
    'UTC'::text as reporting_timezone,
    false as is_internal_included,
    false as is_system_closed_included,
    ''::text as internal_email_domains,
    8 as anomaly_baseline_weeks,
    1.5::numeric as anomaly_iqr_multiplier,
    10.0::numeric as anomaly_min_delta,
    (select at from {floor}.data_watermark) as data_watermark_at;

-- mart: tag_weekly
-- Per tag, every account week from the tag's first (arrival, closing or first
-- response) week on.
create table {floor}.tag_weekly as
with tagged as (
    select
        ct.tag_id, ct.tag_name, k.resolution_minutes, k.first_response_minutes,
        date_trunc('week', k.created_local)::date as created_week,
        date_trunc('week', k.closed_local)::date as closed_week,
        date_trunc('week', k.first_response_local)::date as responded_week
    from {floor}.conversation_tags as ct
    inner join {floor}.kpi_conversations as k on ct.conversation_id = k.conversation_id
),
weeks as (
    select p::date as week_start
    from (select min(first_at) as first_at, max(account_last_at) as last_at from {floor}.kpi_spans) as b
    cross join lateral generate_series(date_trunc('week', b.first_at), date_trunc('week', b.last_at),
                                       interval '1 week') as p
),
spine as (
    select bounds.tag_id, coalesce(tags.tag_name, bounds.tag_name) as tag_name, weeks.week_start
    from (
        select tag_id, min(tag_name) as tag_name,
            min(least(created_week, closed_week, responded_week)) as first_week
        from tagged group by tag_id
    ) as bounds
    inner join weeks on bounds.first_week <= weeks.week_start
    left join {floor}.tags as tags on bounds.tag_id = tags.tag_id
),
received as (
    select tag_id, created_week as week_start, count(*) as n from tagged group by 1, 2
),
closed as (
    select tag_id, closed_week as week_start, count(*) as n,
        (percentile_cont(0.5) within group (order by resolution_minutes))::numeric as median
    from tagged where closed_week is not null group by 1, 2
),
responded as (
    select tag_id, responded_week as week_start, count(*) as n,
        (percentile_cont(0.5) within group (order by first_response_minutes))::numeric as median
    from tagged where responded_week is not null group by 1, 2
),
account as (
    select date_trunc('week', created_local)::date as week_start, count(*) as n
    from {floor}.kpi_conversations group by 1
)
select
    spine.tag_id,
    spine.week_start,
    spine.tag_name,
    (spine.week_start + interval '1 week') at time zone 'UTC' as period_end_at,
    coalesce(received.n, 0) as conversations_received,
    coalesce(closed.n, 0) as conversations_closed,
    closed.median as resolution_minutes_median,
    coalesce(responded.n, 0) as conversations_first_responded,
    responded.median as first_response_minutes_median,
    coalesce(account.n, 0) as account_conversations_received,
    round(coalesce(received.n, 0)::numeric / nullif(account.n, 0), 4) as share_of_received,
    coalesce((spine.week_start + interval '1 week') at time zone 'UTC'
             <= (select at from {floor}.data_watermark), false) as is_complete
from spine
left join received using (tag_id, week_start)
left join closed using (tag_id, week_start)
left join responded using (tag_id, week_start)
left join account using (week_start);

-- mart: arrival_curve
-- Arrivals per mailbox, year (from the mailbox's first activity to the account's
-- last), ISO weekday and hour, zero-filled.
create table {floor}.arrival_curve as
with received as (
    select mailbox_id, extract(year from created_local)::integer as calendar_year,
        extract(isodow from created_local)::integer as iso_day_of_week,
        extract(hour from created_local)::integer as hour_of_day, count(*) as n
    from {floor}.kpi_conversations
    group by 1, 2, 3, 4
)
select
    s.mailbox_id,
    y.calendar_year,
    d.iso_day_of_week,
    h.hour_of_day,
    trim(to_char(date '2001-01-01' + d.iso_day_of_week - 1, 'Day')) as day_name,
    coalesce(received.n, 0) as conversations_received
from {floor}.kpi_spans as s
cross join lateral generate_series(extract(year from s.first_at)::integer,
                                   extract(year from s.account_last_at)::integer) as y (calendar_year)
cross join generate_series(1, 7) as d (iso_day_of_week)
cross join generate_series(0, 23) as h (hour_of_day)
left join received using (mailbox_id, calendar_year, iso_day_of_week, hour_of_day);

-- mart: arrival_day_of_month
create table {floor}.arrival_day_of_month as
with spine as (
    select s.mailbox_id, y.calendar_year
    from {floor}.kpi_spans as s
    cross join lateral generate_series(extract(year from s.first_at)::integer,
                                       extract(year from s.account_last_at)::integer) as y (calendar_year)
),
year_days as (
    select extract(year from d)::integer as calendar_year, extract(day from d)::integer as day_of_month,
        count(*) as months_with_day
    from (select distinct calendar_year from spine) as y
    cross join lateral generate_series(make_date(y.calendar_year, 1, 1)::timestamp,
                                       make_date(y.calendar_year, 12, 31)::timestamp,
                                       interval '1 day') as d
    group by 1, 2
),
received as (
    select mailbox_id, extract(year from created_local)::integer as calendar_year,
        extract(day from created_local)::integer as day_of_month, count(*) as n
    from {floor}.kpi_conversations
    group by 1, 2, 3
)
select
    spine.mailbox_id,
    spine.calendar_year,
    year_days.day_of_month,
    year_days.months_with_day,
    coalesce(received.n, 0) as conversations_received
from spine
inner join year_days using (calendar_year)
left join received using (mailbox_id, calendar_year, day_of_month);

-- mart: thread_depth
create table {floor}.thread_depth as
with bands (band_order, thread_count_band, min_threads, max_threads) as (
    values (1, '1', 0, 1), (2, '2', 2, 2), (3, '3-5', 3, 5), (4, '6-10', 6, 10),
        (5, '11-20', 11, 20), (6, '21+', 21, null)
),
per_cell as (
    select
        mailbox_id,
        date_trunc('month', created_local)::date as month_start,
        case
            when coalesce(thread_count, 0) <= 1 then 1
            when thread_count = 2 then 2
            when thread_count <= 5 then 3
            when thread_count <= 10 then 4
            when thread_count <= 20 then 5
            else 6
        end as band_order,
        count(*) as received,
        count(*) filter (where is_closed) as closed,
        (percentile_cont(0.5) within group (order by resolution_minutes))::numeric as median
    from {floor}.kpi_conversations
    group by 1, 2, 3
)
select
    s.mailbox_id,
    m.month_start,
    bands.thread_count_band,
    bands.band_order,
    bands.min_threads,
    bands.max_threads,
    coalesce(per_cell.received, 0) as conversations_received,
    coalesce(per_cell.closed, 0) as conversations_closed,
    per_cell.median as resolution_minutes_median
from {floor}.kpi_spans as s
cross join lateral generate_series(date_trunc('month', s.first_at), date_trunc('month', s.account_last_at),
                                   interval '1 month') as p
cross join lateral (select p::date as month_start) as m
cross join bands
left join per_cell using (mailbox_id, month_start, band_order);

-- mart: mailbox_backlog_daily
-- Per mailbox and day up to the data watermark's: open and pending at day end
-- (from the status intervals), arrivals, closings and reopenings.
create table {floor}.mailbox_backlog_daily as
with intervals as (
    select k.mailbox_id, h.status, h.is_reopening,
        h.valid_from at time zone 'UTC' as from_local, h.valid_to at time zone 'UTC' as to_local
    from {floor}.conversation_status_history as h
    inner join {floor}.kpi_conversations as k on h.conversation_id = k.conversation_id
),
spine as (
    select s.mailbox_id, p::date as date_day
    from {floor}.kpi_spans as s
    cross join {floor}.data_watermark as w
    cross join lateral generate_series(date_trunc('day', s.first_at),
                                       date_trunc('day', w.at at time zone 'UTC'),
                                       interval '1 day') as p
),
changes as (
    select mailbox_id, date_trunc('day', e.at)::date as date_day,
        sum(e.change) as open_change,
        sum(e.change) filter (where status = 'pending') as pending_change
    from intervals
    cross join lateral (values (from_local, 1), (to_local, -1)) as e (at, change)
    where status in ('active', 'pending') and e.at is not null
    group by 1, 2
),
received as (
    select mailbox_id, date_trunc('day', created_local)::date as date_day, count(*) as n
    from {floor}.kpi_conversations group by 1, 2
),
status_changes as (
    select mailbox_id, date_trunc('day', from_local)::date as date_day,
        count(*) filter (where status = 'closed') as closed,
        count(*) filter (where is_reopening) as reopened
    from intervals group by 1, 2
)
select
    spine.mailbox_id,
    spine.date_day,
    (spine.date_day + interval '1 day') at time zone 'UTC' as day_end_at,
    sum(coalesce(changes.open_change, 0)) over w as open_at_day_end,
    sum(coalesce(changes.pending_change, 0)) over w as pending_at_day_end,
    coalesce(received.n, 0) as conversations_received,
    coalesce(status_changes.closed, 0) as conversations_closed,
    coalesce(status_changes.reopened, 0) as conversations_reopened,
    coalesce((spine.date_day + interval '1 day') at time zone 'UTC'
             <= (select at from {floor}.data_watermark), false) as is_complete
from spine
left join changes using (mailbox_id, date_day)
left join received using (mailbox_id, date_day)
left join status_changes using (mailbox_id, date_day)
window w as (partition by spine.mailbox_id order by spine.date_day);

-- mart: volume_anomalies
-- Days whose arrivals leave q25 - 1.5 IQR .. q75 + 1.5 IQR of the same weekday
-- in the 8 weeks before (all 8 present) by at least 10 conversations from the
-- median (the bench's anomaly_* vars).
create table {floor}.volume_anomalies as
with baselines as (
    select
        d.mailbox_id, d.date_day, d.period_end_at, d.conversations_received,
        (percentile_cont(0.25) within group (order by past.conversations_received))::numeric as q25,
        (percentile_cont(0.5) within group (order by past.conversations_received))::numeric as median,
        (percentile_cont(0.75) within group (order by past.conversations_received))::numeric as q75
    from {floor}.mailbox_daily as d
    cross join generate_series(1, 8) as weeks_back
    inner join {floor}.mailbox_daily as past
        on d.mailbox_id = past.mailbox_id and past.date_day = d.date_day - 7 * weeks_back
    group by d.mailbox_id, d.date_day, d.period_end_at, d.conversations_received
    having count(*) = 8
),
bounded as (
    select *, q25 - 1.5 * (q75 - q25) as lower_bound, q75 + 1.5 * (q75 - q25) as upper_bound
    from baselines
)
select
    mailbox_id,
    date_day,
    period_end_at,
    conversations_received,
    q25 as baseline_q25,
    median as baseline_median,
    q75 as baseline_q75,
    lower_bound,
    upper_bound,
    case when conversations_received > upper_bound then 'spike' else 'drop' end as direction,
    round(100 * (conversations_received - median) / nullif(median, 0), 1) as deviation_percent,
    coalesce(period_end_at <= (select at from {floor}.data_watermark), false) as is_complete
from bounded
where (conversations_received < lower_bound or conversations_received > upper_bound)
    and abs(conversations_received - median) >= 10.0;
