{#- Reporting-time helpers of the KPI marts.

    Every day, week, month, hour and weekday bucket of the KPI marts is taken on
    wall-clock time in the `reporting_timezone` var. The conversion happens once,
    in int_kpi__conversations and int_kpi__replies (kpi_local); models then
    truncate those local timestamps, and kpi_period_end turns a local period
    start back into the UTC instant at which the period ends.

    This macro: the `reporting_timezone` var as a SQL string literal. -#}
{% macro kpi_timezone_literal() -%}
    '{{ var("reporting_timezone") | string | replace("'", "''") }}'
{%- endmacro %}
