{#- The instant (timestamptz) at which the local period starting at local_start ends:
    local midnight after `step` (e.g. '1 day', '1 week'), read in the reporting zone. -#}
{% macro kpi_period_end(local_start, step) -%}
    (({{ local_start }} + interval '{{ step }}') at time zone {{ kpi_timezone_literal() }})
{%- endmacro %}
