{#- Reporting-time helpers of the KPI marts.

    Every day, week, month, hour and weekday bucket of the KPI marts is taken on
    wall-clock time in the `reporting_timezone` var. The conversion happens once,
    in int_kpi__conversations and int_kpi__replies (kpi_local); models then
    truncate those local timestamps, and kpi_period_end turns a local period
    start back into the UTC instant at which the period ends. -#}

{% macro kpi_timezone_literal() -%}
    '{{ var("reporting_timezone") | string | replace("'", "''") }}'
{%- endmacro %}

{#- A timestamptz as wall-clock time (timestamp without time zone) in the reporting zone. -#}
{% macro kpi_local(column) -%}
    ({{ column }} at time zone {{ kpi_timezone_literal() }})
{%- endmacro %}

{#- The instant (timestamptz) at which the local period starting at local_start ends:
    local midnight after `step` (e.g. '1 day', '1 week'), read in the reporting zone. -#}
{% macro kpi_period_end(local_start, step) -%}
    (({{ local_start }} + interval '{{ step }}') at time zone {{ kpi_timezone_literal() }})
{%- endmacro %}

{#- True when a boolean var is set to true, however it was passed on the command line. -#}
{% macro kpi_var_is_true(name) -%}
    {{ return(var(name) | string | lower in ['true', '1', 'yes', 'on']) }}
{%- endmacro %}
