{#- Casts of JSON text (from `->>`) that never fail a run: a value that is
    missing, JSON null, an empty object or not of the expected shape becomes
    null instead of raising an error. -#}

{#- An ISO-8601 timestamp as timestamptz. Values with an offset or `Z` are cast
    straight to timestamptz (never through `timestamp without time zone`, which
    would read them in the session's zone); the rare value without an offset is
    read as UTC, which is what the API means. -#}
{% macro json_timestamp(text_expression) -%}
    case
        when
            {{ text_expression }}
            ~ '^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|z|[+-]\d{2}(:?\d{2})?)$'
            then ({{ text_expression }})::timestamptz
        when {{ text_expression }} ~ '^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?$'
            then ({{ text_expression }} || 'Z')::timestamptz
    end
{%- endmacro %}

{#- An integer id or count as bigint (whole numbers only, e.g. `42` or `"42"`). -#}
{% macro json_bigint(text_expression) -%}
    case
        when {{ text_expression }} ~ '^\s*-?\d{1,18}\s*$'
            then ({{ text_expression }})::bigint
    end
{%- endmacro %}

{#- A JSON value as an array: anything that is not an array (object, string,
    number, null, missing) becomes the empty array. -#}
{% macro json_array(jsonb_expression) -%}
    case
        when jsonb_typeof({{ jsonb_expression }}) = 'array'
            then {{ jsonb_expression }}
        else '[]'::jsonb
    end
{%- endmacro %}
