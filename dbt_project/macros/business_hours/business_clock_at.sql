{#- The business clock at instant `at` in the segment joined as `alias` (see
    business_time_spans): business minutes from the start of the segments
    table up to `at`. Business minutes between a and b are then
    clock(b) - clock(a), the length of [a, b) inside opening intervals,
    without joining every opening interval between a and b. -#}
{% macro business_clock_at(alias, at) -%}
    {{ alias }}.business_minutes_before
    + case
        when {{ alias }}.is_open
            then extract(epoch from {{ at }} - {{ alias }}.segment_start_at) / 60
        else 0
    end
{%- endmacro %}
