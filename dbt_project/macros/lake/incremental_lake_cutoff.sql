{#- The lake load time from which an incremental run re-reads its input: this
    model's high-water mark (the greatest lake `loaded_at` it has carried, in
    `column`) less `var('lookback_hours')`, rendered as a timestamptz literal.

    A literal rather than a subquery: the planner then knows how few rows
    qualify and uses the `loaded_at` index instead of scanning the lake. The
    lookback catches rows that a concurrent load committed after rows with a
    later `loaded_at` (loaded_at is taken at insert, visibility at commit).
    An empty model reads everything. Only call it when is_incremental().
    The post_hook refresh_statistics keeps the planner's statistics current
    enough that it knows how few rows are new. -#}
{% macro incremental_lake_cutoff(column='lake_loaded_at') -%}
    {%- set cutoff = none -%}
    {%- if execute -%}
        {%- set query -%}
            select to_char(
                (max({{ column }}) - interval '1 hour' * {{ var('lookback_hours') | float }})
                at time zone 'UTC',
                'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'
            )
            from {{ this }}
        {%- endset -%}
        {%- set cutoff = run_query(query).columns[0].values()[0] -%}
    {%- endif -%}
    {%- if cutoff is none -%}
        '-infinity'::timestamptz
    {%- else -%}
        '{{ cutoff }}'::timestamptz
    {%- endif -%}
{%- endmacro %}
