{#- The (mailbox, local day) keys whose KPI rows changed since each mark a
    period-incremental KPI mart holds (kpi_build_marks), derived once for all of
    them. For every conversation with a footprint version recorded after the
    mark: the version the mart last saw (the latest recorded at or before the
    mark; none for a new conversation) against the current one. When their
    digests differ, both versions' days count, in both mailboxes (a move, a
    deletion or merge: the new version has no mailbox), and so do the days on
    which the open or pending count changed: the symmetric difference of the
    two versions' open and pending days, or all of both when the mailbox
    changed. Unbounded open days run to the last day any KPI spine reaches.
    is_point_day tells the two apart: true for a day holding a figure of a
    changed conversation, false for a day on which only an open or pending
    count moved, which the marts without such counts (the account-level and
    tag marts) skip. A key can have both rows.

    One marker row per mark (mailbox_id and date_day null) says the mark was
    computed; computed_through is the newest footprint this reflects, the mark
    a mart records after using these rows. A mart of a week (or any coarser
    grain) truncates the days. -#}
{%- set marks = [] -%}
{#- `execute is sameas true`: false when sqlfluff renders the model for linting -#}
{%- if execute is sameas true -%}
    {%- set marks_relation = kpi_build_marks_relation() -%}
    {%- if kpi_build_marks_exist() -%}
        {%- set marks = run_query(
            "select distinct to_char(recorded_through at time zone 'UTC',"
            " 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') from " ~ marks_relation
            ~ " where recorded_through is not null"
        ).columns[0].values() -%}
    {%- endif -%}
{%- endif %}

with

-- not materialized: referenced several times, PostgreSQL would otherwise hold it
-- as one unindexed copy and scan all of it per changed conversation (quadratic)
footprints as not materialized (

    select * from {{ ref('int_kpi__conversation_footprints') }}

),

activity as (

    select * from {{ ref('int_kpi__mailbox_activity') }}

),

watermark as (

    select * from {{ ref('int_helpscout__data_watermark') }}

),

marks as (

    {%- if marks | length == 0 %}
        select null::timestamptz as marked_through
        where false
    {%- else %}
        select marks.marked_through
        from (
            values
            {%- for mark in marks %}
                ('{{ mark }}'::timestamptz){{ "," if not loop.last }}
            {%- endfor %}
        ) as marks (marked_through)
    {%- endif %}

),

horizon as (

    select
        greatest(
            (select max(activity.account_last_activity_at_local)::date from activity),
            (select {{ kpi_local('watermark.data_watermark_at') }}::date from watermark)
        ) as last_day

),

changed as (

    select distinct
        marks.marked_through,
        footprints.conversation_id
    from marks
    inner join footprints
        on marks.marked_through < footprints.recorded_at

),

versions as (

    select
        changed.marked_through,
        seen.mailbox_id as seen_mailbox_id,
        seen.point_days as seen_point_days,
        coalesce(seen.open_days, '{}'::datemultirange) as seen_open_days,
        coalesce(seen.pending_days, '{}'::datemultirange) as seen_pending_days,
        current_version.mailbox_id,
        current_version.point_days,
        current_version.open_days,
        current_version.pending_days
    from changed
    left join lateral (
        select *
        from footprints as seen_footprints
        where
            seen_footprints.conversation_id = changed.conversation_id  -- noqa: RF03
            and seen_footprints.recorded_at <= changed.marked_through
        order by seen_footprints.recorded_at desc
        limit 1
    ) as seen on true
    cross join
        lateral (
            select *
            from footprints as newest_footprints
            where newest_footprints.conversation_id = changed.conversation_id  -- noqa: RF03
            order by newest_footprints.recorded_at desc
            limit 1
        ) as current_version
    where seen.footprint_digest is distinct from current_version.footprint_digest

),

point_keys as (

    select
        marked_through,
        seen_mailbox_id as mailbox_id,
        unnest(seen_point_days) as date_day
    from versions
    where seen_mailbox_id is not null

    union

    select
        marked_through,
        mailbox_id,
        unnest(point_days) as date_day
    from versions
    where mailbox_id is not null

),

changed_ranges as (

    select
        marked_through,
        mailbox_id,
        (open_days - seen_open_days) + (seen_open_days - open_days)
        + (pending_days - seen_pending_days) + (seen_pending_days - pending_days) as changed_days
    from versions
    where mailbox_id = seen_mailbox_id

    union all

    select
        marked_through,
        seen_mailbox_id as mailbox_id,
        seen_open_days + seen_pending_days as changed_days
    from versions
    where seen_mailbox_id is distinct from mailbox_id and seen_mailbox_id is not null

    union all

    select
        marked_through,
        mailbox_id,
        open_days + pending_days as changed_days
    from versions
    where seen_mailbox_id is distinct from mailbox_id and mailbox_id is not null

),

-- one union per mailbox before expanding to days: many changes over the same
-- days (a rebuild, a backfill) expand once, not once per conversation
merged_ranges as (

    select
        marked_through,
        mailbox_id,
        range_agg(changed_days) as changed_days
    from changed_ranges
    group by marked_through, mailbox_id

),

range_keys as (

    select
        merged_ranges.marked_through,
        merged_ranges.mailbox_id,
        range_days.day::date as date_day
    from merged_ranges
    cross join horizon
    cross join lateral unnest(merged_ranges.changed_days) as day_ranges (day_range)
    cross join lateral generate_series(
        lower(day_ranges.day_range)::timestamp,
        (coalesce(upper(day_ranges.day_range), horizon.last_day + 1) - 1)::timestamp,
        interval '1 day'
    ) as range_days (day)

),

final as (

    select
        affected_keys.marked_through,
        affected_keys.mailbox_id,
        affected_keys.date_day,
        affected_keys.is_point_day,
        (select max(footprints.recorded_at) from footprints) as computed_through
    from (
        select
            point_keys.marked_through,
            point_keys.mailbox_id,
            point_keys.date_day,
            true as is_point_day
        from point_keys
        union
        select
            range_keys.marked_through,
            range_keys.mailbox_id,
            range_keys.date_day,
            false as is_point_day
        from range_keys
        union all
        select
            marks.marked_through,
            null::bigint,
            null::date,
            null::boolean
        from marks
        union all
        -- computed_through even before any mart holds a mark
        select
            null::timestamptz,
            null::bigint,
            null::date,
            null::boolean
    ) as affected_keys

)

select * from final
