{{
    config(
        materialized='table',
        indexes=[{'columns': ['calendar_id', 'local_date']}],
    )
}}

{#- Every local day of every business calendar cut into open and closed
    segments, with the business clock (business minutes since the first
    segment) at each segment's start: the table business_time_spans reads.

    Each local date's opening intervals are turned into instants in the
    calendar's time zone (local date + wall-clock time, `at time zone`), so a
    day that changes clocks has its true length. A holiday closes the whole
    local day. Days run from two days before the lake's first conversation to
    a year after its latest timestamp (or now): instants outside count nothing
    and could not occur. Small: a row per segment, three per opening day. -#}

with

calendars as (

    select * from {{ ref('int_business_hours__calendars') }}

),

schedule_intervals as (

    select * from {{ ref('int_business_hours__schedule_intervals') }}

),

holidays as (

    select
        seeded.date,
        seeded.name,
        seeded.mailbox_id
    from {{ business_hours_holidays() }} as seeded

),

conversations as (

    select * from {{ ref('stg_helpscout__conversations') }}

),

bounds as (

    select
        (min(created_at) - interval '2 days')::date as first_day,
        (greatest(max(created_at), max(closed_at), max(user_updated_at), now()) + interval '1 year')::date
            as last_day
    from conversations

),

days as (

    select
        calendars.calendar_id,
        calendars.mailbox_id,
        calendars.schedule_id,
        calendars.time_zone,
        series.day_start::date as local_date,
        series.day_start::date::timestamp at time zone calendars.time_zone as day_starts_at,
        (series.day_start::date + 1)::timestamp at time zone calendars.time_zone as day_ends_at
    from calendars
    cross join bounds
    cross join lateral generate_series(
        coalesce(bounds.first_day, current_date)::timestamp,
        coalesce(bounds.last_day, current_date)::timestamp,
        interval '1 day'
    ) as series (day_start)

),

openings as (

    select
        days.calendar_id,
        days.local_date,
        (days.local_date + schedule_intervals.opens_after_midnight) at time zone days.time_zone as opens_at,
        (days.local_date + schedule_intervals.closes_after_midnight) at time zone days.time_zone as closes_at
    from days
    inner join schedule_intervals
        on
            days.schedule_id = schedule_intervals.schedule_id
            and extract(isodow from days.local_date) = schedule_intervals.iso_day_of_week
    where not exists (
        select 1
        from holidays
        where
            holidays.date = days.local_date
            and (holidays.mailbox_id is null or holidays.mailbox_id = days.mailbox_id)
    )

),

points as (

    select
        calendar_id,
        local_date,
        day_starts_at as point_at
    from days
    union
    select
        calendar_id,
        local_date,
        day_ends_at as point_at
    from days
    union
    select
        calendar_id,
        local_date,
        opens_at as point_at
    from openings
    union
    select
        calendar_id,
        local_date,
        closes_at as point_at
    from openings

),

cut as (

    select
        calendar_id,
        local_date,
        point_at as segment_start_at,
        lead(point_at) over (partition by calendar_id, local_date order by point_at) as segment_end_at
    from points

),

flagged as (

    select
        cut.calendar_id,
        cut.local_date,
        cut.segment_start_at,
        cut.segment_end_at,
        exists(
            select 1
            from openings
            where
                openings.calendar_id = cut.calendar_id
                and openings.local_date = cut.local_date
                and openings.opens_at <= cut.segment_start_at
                and cut.segment_start_at < openings.closes_at
        ) as is_open
    from cut
    where cut.segment_end_at is not null

),

final as (

    select
        calendar_id,
        local_date,
        segment_start_at,
        segment_end_at,
        is_open,
        coalesce(sum(
            case when is_open then extract(epoch from segment_end_at - segment_start_at) / 60 else 0 end
        ) over (
            partition by calendar_id
            order by segment_start_at
            rows between unbounded preceding and 1 preceding
        ), 0) as business_minutes_before
    from flagged

)

select * from final
