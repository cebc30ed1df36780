{#- A list var (e.g. internal_email_domains) as a lower-cased text[] literal,
    for case-insensitive `= any(...)` comparisons. Accepts a single string too. -#}
{% macro lower_text_array(values) -%}
    {%- if values is string -%}
        {%- set values = [values] -%}
    {%- endif -%}
    array[
    {%- for value in values -%}
        '{{ value | string | trim | lower | replace("'", "''") }}'
        {%- if not loop.last %}, {% endif -%}
    {%- endfor -%}
    ]::text []
{%- endmacro %}
