{#- In an incremental run of a period-incremental KPI mart: the footprint mark
    its rows reflect (rendered as a timestamptz literal), when the affected
    periods since that mark are known; none when the mart must redo every
    period: no mark yet, other settings than those it was built with, a
    footprints table rebuilt since (its history no longer reaches the mark), or
    no affected periods computed for that mark (the mart ran without
    int_kpi__affected_periods before it). -#}
{% macro kpi_redo_mark() -%}
    {%- if not (execute and is_incremental()) -%}
        {{- return(none) -}}
    {%- endif -%}
    {%- set marks = kpi_build_marks_relation() -%}
    {%- if not kpi_build_marks_exist() -%}
        {{- return(none) -}}
    {%- endif -%}
    {%- set query -%}
        select to_char(marks.recorded_through at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
        from {{ marks }} as marks
        where
            marks.model_name = '{{ this.identifier }}'
            and marks.settings_fingerprint = {{ kpi_settings_fingerprint() }}
            and marks.recorded_through >= (
                select min(footprints.recorded_at)
                from {{ ref('int_kpi__conversation_footprints') }} as footprints
            )
            and exists (
                select 1
                from {{ ref('int_kpi__affected_periods') }} as affected
                where affected.marked_through = marks.recorded_through and affected.mailbox_id is null
            )
    {%- endset -%}
    {%- set found = run_query(query).columns[0].values() -%}
    {%- if found | length == 0 or found[0] is none -%}
        {{- return(none) -}}
    {%- endif -%}
    {{- return("'" ~ found[0] ~ "'::timestamptz") -}}
{%- endmacro %}
