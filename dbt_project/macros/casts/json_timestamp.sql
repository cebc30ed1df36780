{#- An ISO-8601 / RFC 3339 timestamp (JSON text from `->>`) as timestamptz;
    anything that is not a valid instant becomes null and never fails a run.

    PostgreSQL's own cast raises on an impossible value (2025-02-30, hour 25,
    minute 61, offset +99:00, year 0000), and one such value in one payload
    would fail every model downstream. So the value is cast only when a strict
    pattern says the cast cannot fail: each field in its range (hour 00-23,
    minute 00-59, second 00-59 or a leap second's 60, offset up to ±15:59, the
    most PostgreSQL represents), and the day valid in its month and year (the
    29th of February in leap years only). A pattern instead of a PL/pgSQL
    exception handler: a regular expression per value costs little at a
    million rows, a subtransaction per value would not.

    Values with an offset or `Z` are cast straight to timestamptz (never
    through `timestamp without time zone`, which would read them in the
    session's zone); the rare value without an offset is read as UTC, which is
    what the API means. -#}
{% macro json_timestamp(text_expression) -%}
    {%- set day_in_any_year -%}
        [0-9]{4}-(?:(?:0[1-9]|1[0-2])-(?:0[1-9]|1[0-9]|2[0-8])|(?:0[13-9]|1[0-2])-(?:29|30)|(?:0[13578]|1[02])-31)
    {%- endset -%}
    {%- set leap_day -%}
        (?:[0-9]{2}(?:0[48]|[2468][048]|[13579][26])|(?:0[48]|[2468][048]|[13579][26])00)-02-29
    {%- endset -%}
    {%- set date_part = "(?!0000)(?:" ~ day_in_any_year ~ "|" ~ leap_day ~ ")" -%}
    {%- set time_part = "[Tt ](?:[01][0-9]|2[0-3]):[0-5][0-9](?::(?:[0-5][0-9](?:\\.[0-9]+)?|60))?" -%}
    {%- set zone_part = "(?:Z|z|[+-](?:0[0-9]|1[0-5])(?::?[0-5][0-9])?)" -%}
    case
        when {{ text_expression }} ~ '^{{ date_part }}{{ time_part }}{{ zone_part }}$'
            then ({{ text_expression }})::timestamptz
        when {{ text_expression }} ~ '^{{ date_part }}{{ time_part }}$'
            then ({{ text_expression }} || 'Z')::timestamptz
    end
{%- endmacro %}
