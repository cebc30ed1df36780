{#- Pre-hook of int_kpi__conversations, which every other KPI model builds
    after: the marks table (kpi_build_marks_relation) exists before any of them
    reads or writes it. Created there, once, rather than by the models, which
    run in parallel. -#}
{% macro kpi_create_build_marks() -%}
    create table if not exists {{ kpi_build_marks_relation() }} (
        model_name text primary key,
        recorded_through timestamptz,
        settings_fingerprint text not null,
        built_at timestamptz not null
    )
{%- endmacro %}
