{#- Whether the marks table (kpi_build_marks_relation) exists yet. Asked at
    compile time, and the first KPI model compiles before its pre-hook
    (kpi_create_build_marks) creates the table. -#}
{% macro kpi_build_marks_exist() -%}
    {%- set query = "select to_regclass('" ~ kpi_build_marks_relation() ~ "') is not null" -%}
    {{- return(run_query(query).columns[0].values()[0]) -}}
{%- endmacro %}
