{#- dbt's hook for what a generic data test reads (the `model` it is given):
    the tested relation, narrowed by the test's `where` config as dbt does and,
    on an incremental model that carries lake_loaded_at (audits_recent_rows),
    to the rows the latest runs built (recently_built), unless
    `--vars '{audit_all_rows: true}'` or the test's `meta: {audit: all_rows}`.

    Sound because such a model rewrites a row only from a newer lake copy
    (replace_by_key drops and rewrites all rows of a changed key), so an older
    row is one an earlier run built and these tests passed on then; every test
    on them checks one row (not_null, accepted values, expressions), the rows
    of one key (all rewritten together), or uniqueness, which the model's
    unique index enforces across all rows (the test still checks the new
    rows). One exception, caught by the full audit: conversations also
    redoes, with their old lake_loaded_at, rows whose SLA flag or closer
    email moved. Tables rebuilt in full are tested in full. -#}
{% macro get_where_subquery(relation) -%}
    {%- set conditions = [] -%}
    {%- set where = config.get('where', '') -%}
    {%- if where -%}
        {%- do conditions.append('(' ~ where ~ ')') -%}
    {%- endif -%}
    {%- if not var('audit_all_rows', false)
        and (config.get('meta') or {}).get('audit') != 'all_rows'
        and audits_recent_rows(relation) -%}
        {%- do conditions.append(recently_built('audited', relation)) -%}
    {%- endif -%}
    {%- if conditions -%}
        {%- do return('(select * from ' ~ relation ~ ' as audited where '
                      ~ conditions | join(' and ') ~ ') as dbt_subquery') -%}
    {%- endif -%}
    {%- do return(relation) -%}
{%- endmacro %}
