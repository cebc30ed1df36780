{#- In an incremental run of a period-incremental KPI mart: a where clause
    keeping the model's `spine` rows whose (key_column, period_start) is in its
    `redo_keys` CTE, so only the keys to redo are built. In a full build:
    nothing (every key). -#}
{% macro kpi_spine_in_redo_keys(key_column='mailbox_id') -%}
    {%- if is_incremental() -%}
        where (spine.{{ key_column }}, spine.period_start) in (
            select redo_keys.{{ key_column }}, redo_keys.period_start from redo_keys
        )
    {%- endif -%}
{%- endmacro %}
