{#- The business-time columns of `conversations` for the rows of `relation`
    (a CTE with conversation_id, mailbox_id, status, created_at, closed_at,
    created_by_type and first_response_at), one row per conversation:
    first_response_business_minutes, resolution_business_minutes and
    is_first_response_sla_breached, as the contract's "Business hours" defines
    them. A span ending before it starts has no length (0). -#}
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
            else coalesce(clocked.watermark_clock - clocked.created_clock > {{ target }}, false)
        end as is_first_response_sla_breached
    from (
        select
            calendared.conversation_id,
            calendared.created_at,
            calendared.is_user_started,
            {{ business_minutes_at('calendared.created_at', 'calendared.calendar_id', 'calendared.time_zone') }}
                as created_clock,
            case when calendared.first_response_at is not null then
                {{ business_minutes_at(
                    'greatest(calendared.first_response_at, calendared.created_at)',
                    'calendared.calendar_id', 'calendared.time_zone') }}
            end as first_response_clock,
            case when calendared.status = 'closed' and calendared.closed_at is not null then
                {{ business_minutes_at(
                    'greatest(calendared.closed_at, calendared.created_at)',
                    'calendared.calendar_id', 'calendared.time_zone') }}
            end as resolved_clock,
            case when calendared.first_response_at is null and calendared.data_watermark_at is not null then
                {{ business_minutes_at(
                    'greatest(calendared.data_watermark_at, calendared.created_at)',
                    'calendared.calendar_id', 'calendared.time_zone') }}
            end as watermark_clock
        from (
            select
                spans.conversation_id,
                spans.status,
                spans.created_at,
                spans.closed_at,
                spans.first_response_at,
                coalesce(spans.created_by_type = 'user', false) as is_user_started,
                coalesce(mailbox_calendars.calendar_id, account_calendar.calendar_id) as calendar_id,
                coalesce(mailbox_calendars.time_zone, account_calendar.time_zone) as time_zone,
                watermark.data_watermark_at
            from {{ relation }} as spans
            cross join {{ ref('int_helpscout__data_watermark') }} as watermark
            cross join (
                select calendars.calendar_id, calendars.time_zone
                from {{ ref('int_business_hours__calendars') }} as calendars
                where calendars.mailbox_id is null
            ) as account_calendar
            left join {{ ref('int_business_hours__calendars') }} as mailbox_calendars
                on spans.mailbox_id = mailbox_calendars.mailbox_id
        ) as calendared
    ) as clocked
{%- endmacro %}
