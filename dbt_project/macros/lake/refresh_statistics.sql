{#- A post-hook for the incremental models: refresh the table's planner
    statistics.

    With `every_run`: after every run. For the staging tables that the models
    downstream filter by load time in the same run (the rows just written lie
    beyond the last histogram: on stale statistics the planner expects one such
    row and picks nested loops that take minutes over ten thousand).

    Otherwise only when the table has none, i.e. after a full build (CREATE
    TABLE AS leaves none, and autovacuum may not have come by before the next
    run); later runs leave it to autovacuum, as an ANALYZE of millions of rows
    on every run costs more than it saves. -#}
{% macro refresh_statistics(every_run=false) -%}
    {%- if every_run -%}
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
