{#- An ISO-8601 / RFC 3339 timestamp (JSON text from `->>`) as timestamptz;
    anything that is not a valid instant becomes null and never fails a run.

    PostgreSQL's own cast raises on an impossible value (2025-02-30, hour 25,
    minute 61, offset +99:00, year 0000), and one such value in one payload
    would fail every model downstream. So a value is cast only once it is known
    to be castable: a pattern puts each field in its range (month 01-12, day
    01-31, hour 00-23, minute 00-59, second 00-59 or a leap second's 60, an
    offset up to ±15:59, the most PostgreSQL represents), then the day is
    checked against its month's length (29 February in leap years only) and
    the year against 0000. Nested CASEs fix the order, so the integer casts of
    that check only ever see the digits the pattern has vouched for.

    A pattern rather than a PL/pgSQL exception handler: a subtransaction per
    value is far too slow at a million conversations. The calendar check is
    arithmetic rather than part of the pattern because the regular expression
    engine takes about twice as long with the calendar's alternations.

    Values with an offset or `Z` are cast straight to timestamptz (never
    through `timestamp without time zone`, which would read them in the
    session's zone); the rare value without an offset is read as UTC, which is
    what the API means. -#}
{% macro json_timestamp(text_expression) -%}
    {%- set fields -%}
        [0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])[Tt ]([01][0-9]|2[0-3]):[0-5][0-9](:([0-5][0-9](\.[0-9]+)?|60))?
    {%- endset -%}
    {%- set zone = "(Z|z|[+-](0[0-9]|1[0-5])(:?[0-5][0-9])?)" -%}
    case
        when {{ text_expression }} ~ '^{{ fields }}{{ zone }}$'
            then case
                when {{ calendar_day_exists(text_expression) }}
                    then ({{ text_expression }})::timestamptz
            end
        when {{ text_expression }} ~ '^{{ fields }}$'
            then case
                when {{ calendar_day_exists(text_expression) }}
                    then ({{ text_expression }} || 'Z')::timestamptz
            end
    end
{%- endmacro %}
