{#- The business clock at instant `at`: business minutes from the start of
    int_business_hours__segments up to `at` on calendar `calendar_id`, whose
    time zone is `timezone`. Business minutes between a and b are then
    clock(b) - clock(a): the length of [a, b) inside opening intervals, found by
    one index lookup per instant (the segment holding it) instead of joining
    every opening interval between a and b. Null when `at` is null. -#}
{% macro business_minutes_at(at, calendar_id, timezone) -%}
    (
        select
            segments.business_minutes_before
            + case
                when segments.is_open
                    then extract(epoch from ({{ at }}) - segments.segment_start_at) / 60
                else 0
            end
        from {{ ref('int_business_hours__segments') }} as segments
        where
            segments.calendar_id = {{ calendar_id }}
            and segments.local_date = (({{ at }}) at time zone {{ timezone }})::date
            and segments.segment_start_at <= ({{ at }})
            and ({{ at }}) < segments.segment_end_at
    )
{%- endmacro %}
