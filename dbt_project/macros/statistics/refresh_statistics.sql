{#- The post-hook of the staging models and the incremental marts: refresh the
    table's planner statistics.

    When the table has none, i.e. after a full build (CREATE TABLE AS leaves
    none, and autovacuum may not have come by before the next run): all of
    them.

    Otherwise, for the models configured `refresh_statistics_every_run: true`,
    after every run: those of lake_loaded_at, which the models downstream
    filter by in the same run (the rows just written lie beyond the last
    histogram: on stale statistics the planner expects one such row and picks
    nested loops that take minutes over ten thousand). The table's row count
    is refreshed with it. The other columns' are left to autovacuum: their
    ANALYZE on every run cost more than it saved (1M conversations: 1.0 s for
    every column, 0.3 s for lake_loaded_at alone).

    The other models leave later runs to autovacuum, as an ANALYZE of millions
    of rows on every run costs more than it saves.

    A model config key rather than a second hook: hooks set on a folder and on
    a model both run, so a model cannot replace its folder's hook. -#}
{% macro refresh_statistics() -%}
    {%- set relation = this.include(database=false) -%}
    {%- set every_run = config.get('refresh_statistics_every_run', false) -%}
    do $refresh_statistics$
    begin
        if not exists (
            select 1 from pg_catalog.pg_statistic
            where starelid = '{{ relation }}'::regclass
        ) then
            analyze {{ relation }};
        {{ 'else analyze ' ~ relation ~ ' (lake_loaded_at);' if every_run }}
        end if;
    end
    $refresh_statistics$
{%- endmacro %}
