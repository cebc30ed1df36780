{#- A post-hook for the incremental models: ANALYZE the table when it has no
    statistics yet, i.e. after a full build (CREATE TABLE AS leaves none, and
    autovacuum may not have come by before the next run). Without them the next
    incremental run's planner guesses a third of the table matches its filters
    and scans instead of using the indexes. Later runs leave it to autovacuum:
    an ANALYZE of a large table on every run would cost more than it saves. -#}
{% macro analyze_if_new() -%}
    do $analyze_if_new$
    begin
        if not exists (
            select 1 from pg_catalog.pg_statistic
            where starelid = '{{ this.include(database=false) }}'::regclass
        ) then
            analyze {{ this.include(database=false) }};
        end if;
    end
    $analyze_if_new$
{%- endmacro %}
