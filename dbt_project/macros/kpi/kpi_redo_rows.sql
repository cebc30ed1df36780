{#- The final select of a period-incremental KPI mart, from its CTE `rows` of
    built keys: in an incremental run every key of the model's `redo_keys` CTE
    (columns `key_column`, if any, and period_start, named `period_column` in
    the mart) left-joined to its rows (replace_by_key_rows: a key left with no
    row still deletes its held ones); in a full build just the rows. -#}
{% macro kpi_redo_rows(rows, period_column, key_column='mailbox_id') -%}
    {%- if is_incremental() -%}
        {%- set key_select = ('redo_keys.' ~ key_column ~ ', ' if key_column else '') -%}
        {%- set keys = (key_column ~ ', ' if key_column else '') ~ period_column -%}
        select *
        from (select {{ key_select }}redo_keys.period_start as {{ period_column }} from redo_keys) as redo_rows
        left join {{ rows }} using ({{ keys }})
    {%- else -%}
        select * from {{ rows }}
    {%- endif -%}
{%- endmacro %}
