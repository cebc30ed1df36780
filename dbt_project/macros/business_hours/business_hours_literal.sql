{#- A SQL string literal (quotes doubled) for a value rendered from a var. -#}
{% macro business_hours_literal(value) -%}
    '{{ value | string | replace("'", "''") }}'
{%- endmacro %}
