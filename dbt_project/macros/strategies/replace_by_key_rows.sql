{#- The final select of a model built with the replace_by_key strategy.

    In an incremental run: every key in `keys_from` (a CTE holding the keys to
    redo, e.g. the changed conversations) left-joined to its rows in `rows`, so
    that a key with no rows left still appears once, with nulls, and
    replace_by_key deletes its old rows. USING keeps a single key column. In a
    full build: just the rows. -#}
{% macro replace_by_key_rows(rows, keys_from, key) -%}
    {%- if is_incremental() -%}
        select *
        from (select {{ keys_from }}.{{ key }} from {{ keys_from }}) as replaced_keys
        left join {{ rows }} using ({{ key }})
    {%- else -%}
        select * from {{ rows }}
    {%- endif -%}
{%- endmacro %}
