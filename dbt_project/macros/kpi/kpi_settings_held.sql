{#- In an incremental run of a conversation-incremental KPI model: whether its
    rows were built under the current settings (kpi_settings_fingerprint), as
    its mark in kpi_build_marks_relation says. When not, the model redoes
    every conversation, so rows of two configurations never sit side by side. -#}
{% macro kpi_settings_held() -%}
    {%- if not (execute is sameas true and is_incremental()) -%}
        {{- return(false) -}}
    {%- endif -%}
    {%- set marks = kpi_build_marks_relation() -%}
    {%- if not kpi_build_marks_exist() -%}
        {{- return(false) -}}
    {%- endif -%}
    {%- set query -%}
        select count(*) from {{ marks }}
        where model_name = '{{ this.identifier }}' and settings_fingerprint = {{ kpi_settings_fingerprint() }}
    {%- endset -%}
    {{- return(run_query(query).columns[0].values()[0] > 0) -}}
{%- endmacro %}
