{#- The bookkeeping table of the incremental KPI models: per period-incremental
    mart, how far into int_kpi__conversation_footprints its rows reach
    (recorded_through) and the settings digest it was built with
    (kpi_record_build_mark); per conversation-incremental model, the settings
    digest alone (kpi_record_settings_mark, recorded_through null). Each model
    writes its mark in its own transaction, so a model that failed keeps its
    old mark and its next run redoes what it missed. Created by
    int_kpi__conversations (kpi_create_build_marks), which every other KPI
    model builds after. Rendered as schema.table. -#}
{% macro kpi_build_marks_relation() -%}
    {{- return(var('staging_schema', 'helpscout_staging') ~ '.kpi_build_marks') -}}
{%- endmacro %}
