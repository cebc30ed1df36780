{#- The period of `grain` holding the wall-clock timestamp `local_column`, as a
    date: the key a KPI mart groups by and kpi_in_redo_keys looks up. Written
    once, so the expression indexes of kpi_period_indexes match it exactly. -#}
{% macro kpi_period_key(grain, local_column) -%}
    date_trunc('{{ grain }}', {{ local_column }})::date
{%- endmacro %}
