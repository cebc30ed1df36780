{#- The bookkeeping table of the period-incremental KPI marts: per mart, how far
    into int_kpi__conversation_footprints its rows reach (recorded_through) and
    the settings digest it was built with. Written by each mart in its own
    transaction (kpi_record_build_mark), so a mart that failed keeps its old
    mark and its next run redoes what it missed. Created by the footprints
    model (kpi_create_build_marks), which every such mart builds after.
    Rendered as schema.table. -#}
{% macro kpi_build_marks_relation() -%}
    {{- return(var('staging_schema', 'helpscout_staging') ~ '.kpi_build_marks') -}}
{%- endmacro %}
