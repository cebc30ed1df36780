{#- An integer id or count as bigint (whole numbers only, e.g. `42` or `"42"`). -#}
{% macro json_bigint(text_expression) -%}
    case
        when {{ text_expression }} ~ '^\s*-?\d{1,18}\s*$'
            then ({{ text_expression }})::bigint
    end
{%- endmacro %}
