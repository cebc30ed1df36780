{#- A JSON value as an array: anything that is not an array (object, string,
    number, null, missing) becomes the empty array. -#}
{% macro json_array(jsonb_expression) -%}
    case
        when jsonb_typeof({{ jsonb_expression }}) = 'array'
            then {{ jsonb_expression }}
        else '[]'::jsonb
    end
{%- endmacro %}
