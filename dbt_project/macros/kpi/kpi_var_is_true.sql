{#- True when a boolean var is set to true, however it was passed on the command line. -#}
{% macro kpi_var_is_true(name) -%}
    {{ return(var(name) | string | lower in ['true', '1', 'yes', 'on']) }}
{%- endmacro %}
