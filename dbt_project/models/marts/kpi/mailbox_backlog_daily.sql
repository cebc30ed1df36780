{#- The backlog as it was, day by day (reporting zone), per current mailbox:
    what was open (active or pending) and pending at each day's end according to
    conversation_status_history, what came in, what was closed (closed intervals
    that started that day) and reopened (closed -> active/pending that day).
    Zero rows from each mailbox's first activity to the day holding the data
    watermark; is_complete once the day ended at or before the watermark.
    The KPI filter applies (int_kpi__conversations). -#}
{{ config(indexes=[{'columns': ['mailbox_id', 'date_day'], 'unique': true}]) }}

with

kpi_conversations as (

    select * from {{ ref('int_kpi__conversations') }}

),

kpi_intervals as (

    select * from {{ ref('int_kpi__status_intervals') }}

),

activity as (

    select * from {{ ref('int_kpi__mailbox_activity') }}

),

watermark as (

    select
        data_watermark_at,
        {{ kpi_local('data_watermark_at') }} as data_watermark_at_local
    from {{ ref('int_helpscout__data_watermark') }}

),

spine as (

    select
        activity.mailbox_id,
        spine_days.day_start::date as date_day
    from activity
    cross join watermark
    cross join lateral generate_series(
        date_trunc('day', activity.first_activity_at_local),
        date_trunc('day', watermark.data_watermark_at_local),
        interval '1 day'
    ) as spine_days (day_start)

),

open_net as (

    {{ kpi_open_changes('day') }}

),

pending_net as (

    {{ kpi_open_changes('day', where="status = 'pending'") }}

),

received as (

    select
        mailbox_id,
        date_trunc('day', created_at_local)::date as date_day,
        count(*) as conversations_received
    from kpi_conversations
    group by mailbox_id, date_day

),

status_changes as (

    select
        mailbox_id,
        date_trunc('day', valid_from_local)::date as date_day,
        count(*) filter (where status = 'closed') as conversations_closed,
        count(*) filter (where is_reopening) as conversations_reopened
    from kpi_intervals
    group by mailbox_id, date_day

),

final as (

    select
        spine.mailbox_id,
        spine.date_day,
        {{ kpi_period_end('spine.date_day', '1 day') }} as day_end_at,
        sum(coalesce(open_net.open_net_change, 0)) over (
            partition by spine.mailbox_id
            order by spine.date_day
            rows between unbounded preceding and current row
        ) as open_at_day_end,
        sum(coalesce(pending_net.open_net_change, 0)) over (
            partition by spine.mailbox_id
            order by spine.date_day
            rows between unbounded preceding and current row
        ) as pending_at_day_end,
        coalesce(received.conversations_received, 0) as conversations_received,
        coalesce(status_changes.conversations_closed, 0) as conversations_closed,
        coalesce(status_changes.conversations_reopened, 0) as conversations_reopened,
        {{ kpi_is_complete(kpi_period_end('spine.date_day', '1 day')) }} as is_complete

    from spine
    cross join watermark
    left join open_net
        on spine.mailbox_id = open_net.mailbox_id and spine.date_day = open_net.period_start
    left join pending_net
        on spine.mailbox_id = pending_net.mailbox_id and spine.date_day = pending_net.period_start
    left join received
        on spine.mailbox_id = received.mailbox_id and spine.date_day = received.date_day
    left join status_changes
        on spine.mailbox_id = status_changes.mailbox_id and spine.date_day = status_changes.date_day

)

select * from final
