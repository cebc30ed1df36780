{#- In an incremental run of a period-incremental KPI mart: a condition keeping
    the input rows whose (key in `key_column`, period of `grain` holding
    `local_column`) is in the model's `redo_keys` CTE, so each aggregate reads
    only what it must redo (through a kpi_period_indexes index where the input
    has one). `key_column` none: an account-level mart, keyed by the period
    alone. In a full build: true. -#}
{% macro kpi_in_redo_keys(key_column, grain, local_column) -%}
    {%- if is_incremental() and key_column -%}
        ({{ key_column }}, {{ kpi_period_key(grain, local_column) }}) in (select redo_keys.{{ key_column }}, redo_keys.period_start from redo_keys)
    {%- elif is_incremental() -%}
        {{ kpi_period_key(grain, local_column) }} in (select redo_keys.period_start from redo_keys)
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}
