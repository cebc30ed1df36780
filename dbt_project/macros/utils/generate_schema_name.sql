{#- Custom schemas land exactly as named (helpscout_staging, helpscout), not
    prefixed with the target schema as dbt does by default: dashboards and the
    contract name them directly. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
