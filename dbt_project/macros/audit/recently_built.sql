{#- A filter for the audit tests (tests/assert_*.sql): the rows of `relation`
    built from lake rows loaded within lookback_hours of its newest one, i.e.
    what the latest runs wrote; incremental bugs show up there, and older rows
    were audited when they were written. `--vars '{audit_all_rows: true}'`
    audits every row.

    When the test runs, the cut-off is read first and written into the test as
    a literal: compared with a subquery's result, PostgreSQL must guess that a
    third of the table qualifies, and at 1M conversations it then hashes the
    whole parent table of a relationships test to check a few thousand rows
    (0.3 to 0.9 s per test). With the literal it reads the histogram and uses
    the lake_loaded_at index. Compiled outside a run, or before the relation
    exists, the test keeps the subquery. -#}
{% macro recently_built(alias, relation) -%}
    {%- if var('audit_all_rows', false) -%}
        true
    {%- else -%}
        {%- set cutoff_sql = "select max(newest.lake_loaded_at) - interval '1 hour' * "
            ~ (var('lookback_hours') | float) ~ " from " ~ relation ~ " as newest" -%}
        {%- set cutoff = none -%}
        {%- if execute and flags.WHICH in ('build', 'test') and load_relation(relation) is not none -%}
            {%- set cutoff = run_query('select (' ~ cutoff_sql ~ ')::text').columns[0].values()[0] -%}
        {%- endif -%}
        {%- if cutoff is not none -%}
            {{ alias }}.lake_loaded_at >= '{{ cutoff }}'::timestamptz
        {%- else -%}
            {{ alias }}.lake_loaded_at >= ({{ cutoff_sql }})
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}
