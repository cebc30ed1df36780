{#- Percentiles of the KPI marts are CONTINUOUS (percentile_cont): with an even
    count the median is the mean of the two middle values, and p90 interpolates
    linearly between the two nearest ranks, as Python's statistics.median and
    numpy's default do. Nulls are ignored; no value at all gives null. -#}
{% macro kpi_percentile(column, fraction) -%}
    (percentile_cont({{ fraction }}) within group (order by {{ column }}))::numeric
{%- endmacro %}
