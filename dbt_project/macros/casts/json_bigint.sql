{#- An integer id or count (JSON text from `->>`) as bigint: whole numbers only,
    e.g. `42` or `"42"`; anything else (a fraction, an exponent, text, a number
    too large for bigint) becomes null and never fails a run.

    At most 18 digits, so the value always fits; spaces are the ASCII ones the
    bigint cast itself skips (a regex `\s` would also let through Unicode
    spaces that the cast rejects). -#}
{% macro json_bigint(text_expression) -%}
    case
        when {{ text_expression }} ~ '^[ \t\n\r\f\v]*-?[0-9]{1,18}[ \t\n\r\f\v]*$'
            then ({{ text_expression }})::bigint
    end
{%- endmacro %}
