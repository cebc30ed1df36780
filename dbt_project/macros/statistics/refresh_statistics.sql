{#- The post-hook of the staging models and the incremental marts: refresh the
    table's planner statistics.

    After every run for the models configured `refresh_statistics_every_run:
    true`: the staging tables that the models downstream filter by load time
    in the same run (the rows just written lie beyond the last histogram: on
    stale statistics the planner expects one such row and picks nested loops
    that take minutes over ten thousand).

    Otherwise only when the table has none, i.e. after a full build (CREATE
    TABLE AS leaves none, and autovacuum may not have come by before the next
    run); later runs leave it to autovacuum, as an ANALYZE of millions of rows
    on every run costs more than it saves.

    A model config key rather than a second hook: hooks set on a folder and on
    a model both run, so a model cannot replace its folder's hook. -#}
{% macro refresh_statistics() -%}
    {%- if config.get('refresh_statistics_every_run', false) -%}
        analyze {{ this }}
    {%- else -%}
        do $refresh_statistics$
        begin
            if not exists (
                select 1 from pg_catalog.pg_statistic
                where starelid = '{{ this.include(database=false) }}'::regclass
            ) then
                analyze {{ this.include(database=false) }};
            end if;
        end
        $refresh_statistics$
    {%- endif -%}
{%- endmacro %}
