{#- The business-time columns of `conversations` for the rows of `relation`
    (a CTE with conversation_id, mailbox_id, status, created_at, closed_at,
    created_by_type and first_response_at), one row per conversation:
    first_response_business_minutes, resolution_business_minutes and
    is_first_response_sla_breached, as the contract's "Business hours" defines
    them. A span ending before it starts has no length (0).

    Each instant is joined to the int_business_hours__segments row holding it:
    the equality on (calendar, local date) lets PostgreSQL hash the small
    segments table once for all rows, the range picks the segment of that day
    holding the instant; business_clock_at reads the clock there. No row (a
    null clock) when the instant is null. -#}
{% macro business_time_spans(relation) -%}
    {%- do business_hours_schedules() -%}
    {%- set target = var('sla_first_response_business_minutes') | string | trim -%}
    select
        clocked.conversation_id,
        clocked.first_response_clock - clocked.created_clock as first_response_business_minutes,
        clocked.resolved_clock - clocked.created_clock as resolution_business_minutes,
        case
            when clocked.is_user_started or clocked.created_at is null then null
            when clocked.first_response_clock is not null
                then clocked.first_response_clock - clocked.created_clock > {{ target }}
            -- still waiting: measured up to the data watermark (none yet: no breach shown)
            else coalesce(clocked.waiting_clock - clocked.created_clock > {{ target }}, false)
        end as is_first_response_sla_breached
    from (
        select
            spans.conversation_id,
            spans.created_at,
            spans.is_user_started,
            {{ business_clock_at('created_segment', 'spans.created_at') }} as created_clock,
            {{ business_clock_at('first_response_segment', 'spans.first_response_until') }}
                as first_response_clock,
            {{ business_clock_at('resolved_segment', 'spans.resolved_until') }} as resolved_clock,
            {{ business_clock_at('waiting_segment', 'spans.waiting_until') }} as waiting_clock
        from (
            select
                conversations.conversation_id,
                conversations.created_at,
                coalesce(conversations.created_by_type = 'user', false) as is_user_started,
                -- the ends of the spans; greatest(): a span ending before it starts counts 0
                case
                    when conversations.first_response_at is not null
                        then greatest(conversations.first_response_at, conversations.created_at)
                end as first_response_until,
                case
                    when conversations.status = 'closed' and conversations.closed_at is not null
                        then greatest(conversations.closed_at, conversations.created_at)
                end as resolved_until,
                case
                    when conversations.first_response_at is null and watermark.data_watermark_at is not null
                        then greatest(watermark.data_watermark_at, conversations.created_at)
                end as waiting_until,
                coalesce(mailbox_calendars.calendar_id, account_calendar.calendar_id) as calendar_id,
                coalesce(mailbox_calendars.time_zone, account_calendar.time_zone) as time_zone
            from {{ relation }} as conversations
            cross join {{ ref('int_helpscout__data_watermark') }} as watermark
            cross join (
                select calendars.calendar_id, calendars.time_zone
                from {{ ref('int_business_hours__calendars') }} as calendars
                where calendars.mailbox_id is null
            ) as account_calendar
            left join {{ ref('int_business_hours__calendars') }} as mailbox_calendars
                on conversations.mailbox_id = mailbox_calendars.mailbox_id
        ) as spans
        left join {{ ref('int_business_hours__segments') }} as created_segment
            on
                spans.calendar_id = created_segment.calendar_id
                and (spans.created_at at time zone spans.time_zone)::date = created_segment.local_date
                and spans.created_at >= created_segment.segment_start_at
                and spans.created_at < created_segment.segment_end_at
        left join {{ ref('int_business_hours__segments') }} as first_response_segment
            on
                spans.calendar_id = first_response_segment.calendar_id
                and (spans.first_response_until at time zone spans.time_zone)::date = first_response_segment.local_date
                and spans.first_response_until >= first_response_segment.segment_start_at
                and spans.first_response_until < first_response_segment.segment_end_at
        left join {{ ref('int_business_hours__segments') }} as resolved_segment
            on
                spans.calendar_id = resolved_segment.calendar_id
                and (spans.resolved_until at time zone spans.time_zone)::date = resolved_segment.local_date
                and spans.resolved_until >= resolved_segment.segment_start_at
                and spans.resolved_until < resolved_segment.segment_end_at
        left join {{ ref('int_business_hours__segments') }} as waiting_segment
            on
                spans.calendar_id = waiting_segment.calendar_id
                and (spans.waiting_until at time zone spans.time_zone)::date = waiting_segment.local_date
                and spans.waiting_until >= waiting_segment.segment_start_at
                and spans.waiting_until < waiting_segment.segment_end_at
    ) as clocked
{%- endmacro %}
