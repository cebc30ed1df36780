{#- Post-hook of int_kpi__conversation_footprints: the marks table
    (kpi_build_marks_relation) exists before any KPI mart reads or writes it.
    Created here, once, rather than by the marts, which run in parallel. -#}
{% macro kpi_create_build_marks() -%}
    create table if not exists {{ kpi_build_marks_relation() }} (
        model_name text primary key,
        recorded_through timestamptz,
        settings_fingerprint text not null,
        built_at timestamptz not null
    )
{%- endmacro %}
