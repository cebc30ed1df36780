{#- In an incremental run of a period-incremental KPI mart: a condition keeping
    the input rows whose (mailbox, period of `grain` holding `local_column`) is in the model's `redo_keys` CTE,
    so each aggregate reads only what it must redo. In a full build: true. -#}
{% macro kpi_in_redo_keys(mailbox_column, grain, local_column) -%}
    {%- if is_incremental() -%}
        ({{ mailbox_column }}, date_trunc('{{ grain }}', {{ local_column }})::date) in (select redo_keys.mailbox_id, redo_keys.period_start from redo_keys)
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}
