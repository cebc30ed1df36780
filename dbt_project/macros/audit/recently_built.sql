{#- A filter for the audit tests (tests/assert_*.sql): the rows of `relation`
    built from lake rows loaded within lookback_hours of its newest one, i.e.
    what the latest runs wrote; incremental bugs show up there, and older rows
    were audited when they were written. `--vars '{audit_all_rows: true}'`
    audits every row. -#}
{% macro recently_built(alias, relation) -%}
    {%- if var('audit_all_rows', false) -%}
        true
    {%- else -%}
        {{ alias }}.lake_loaded_at >= (
            select max(newest.lake_loaded_at) - interval '1 hour' * {{ var('lookback_hours') | float }}
            from {{ relation }} as newest
        )
    {%- endif -%}
{%- endmacro %}
