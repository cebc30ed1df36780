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
