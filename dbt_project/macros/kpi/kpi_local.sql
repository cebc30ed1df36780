{#- A timestamptz as wall-clock time (timestamp without time zone) in the reporting zone. -#}
{% macro kpi_local(column) -%}
    ({{ column }} at time zone {{ kpi_timezone_literal() }})
{%- endmacro %}
