{#- The backlog as it was, day by day (reporting zone), per current mailbox:
    what was open (active or pending) and pending at each day's end according to
    conversation_status_history, what came in, what was closed (closed intervals
    that started that day) and reopened (closed -> active/pending that day).
    Zero rows from each mailbox's first activity to the day holding the data
    watermark; is_complete once the day ended at or before the watermark.
    The KPI filter applies (int_kpi__conversations).

    Incremental by affected period (replace_by_key on mailbox and day), as
    mailbox_daily: a run redoes the keys of kpi_redo_keys, and every aggregate
    reads only those keys, the open and pending counts included
    (kpi_open_counts). -#}
{{
    config(
        materialized='incremental',
        unique_key=['mailbox_id', 'date_day'],
        present_column='day_end_at',
        indexes=[{'columns': ['mailbox_id', 'date_day'], 'unique': true}],
        pre_hook="{{ kpi_prefer_index_reads('day') }}",
        post_hook=['{{ kpi_record_build_mark() }}'],
    )
}}
-- the mark and the affected periods (kpi_redo_keys, kpi_record_build_mark)
-- depends_on: {{ ref('int_kpi__conversation_footprints') }}
-- depends_on: {{ ref('int_kpi__affected_periods') }}

with

kpi_conversations as not materialized (

    select * from {{ ref('int_kpi__conversations') }}

),

kpi_intervals as not materialized (

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
        spine_days.day_start::date as period_start
    from activity
    cross join watermark
    cross join lateral generate_series(
        date_trunc('day', activity.first_activity_at_local),
        date_trunc('day', watermark.data_watermark_at_local),
        interval '1 day'
    ) as spine_days (day_start)

),

{% if is_incremental() -%}
    redo_keys as (

        {{ kpi_redo_keys('day', 'date_day') }}

    ),
{% endif %}

open_net as (

    {{ kpi_open_changes('day') }}

),

pending_net as (

    {{ kpi_open_changes('day', where="status = 'pending'") }}

),

open_counts as (

    {{ kpi_open_counts('open_net', 'open_at_day_end', 'date_day') }}

),

pending_counts as (

    {{ kpi_open_counts('pending_net', 'pending_at_day_end', 'date_day') }}

),

received as (

    select
        mailbox_id,
        {{ kpi_period_key('day', 'created_at_local') }} as date_day,
        count(*) as conversations_received
    from kpi_conversations
    where {{ kpi_in_redo_keys('mailbox_id', 'day', 'created_at_local') }}
    group by mailbox_id, date_day

),

status_changes as (

    select
        mailbox_id,
        {{ kpi_period_key('day', 'valid_from_local') }} as date_day,
        count(*) filter (where status = 'closed') as conversations_closed,
        count(*) filter (where is_reopening) as conversations_reopened
    from kpi_intervals
    where {{ kpi_in_redo_keys('mailbox_id', 'day', 'valid_from_local') }}
    group by mailbox_id, date_day

),

days as (

    select
        spine.mailbox_id,
        spine.period_start as date_day,
        {{ kpi_period_end('spine.period_start', '1 day') }} as day_end_at,
        coalesce(open_counts.open_count, 0) as open_at_day_end,
        coalesce(pending_counts.open_count, 0) as pending_at_day_end,
        coalesce(received.conversations_received, 0) as conversations_received,
        coalesce(status_changes.conversations_closed, 0) as conversations_closed,
        coalesce(status_changes.conversations_reopened, 0) as conversations_reopened,
        {{ kpi_is_complete(kpi_period_end('spine.period_start', '1 day')) }} as is_complete

    from spine
    cross join watermark
    left join open_counts
        on spine.mailbox_id = open_counts.mailbox_id and spine.period_start = open_counts.period_start
    left join pending_counts
        on spine.mailbox_id = pending_counts.mailbox_id and spine.period_start = pending_counts.period_start
    left join received
        on spine.mailbox_id = received.mailbox_id and spine.period_start = received.date_day
    left join status_changes
        on spine.mailbox_id = status_changes.mailbox_id and spine.period_start = status_changes.date_day
    {{ kpi_spine_in_redo_keys() }}

),

final as (

    {{ kpi_redo_rows('days', 'date_day') }}

)

select * from final
