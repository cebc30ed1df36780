{#- Whether the date at the start of `text_expression` (YYYY-MM-DD, month and
    day already known to be in 01-12 and 01-31) exists: the day within its
    month's length, 29 February in leap years only (Gregorian: every fourth
    year, but not centuries unless divisible by 400), and not year 0000, which
    PostgreSQL rejects. Only for json_timestamp, which calls it once its
    pattern has matched. -#}
{% macro calendar_day_exists(text_expression) -%}
    substr({{ text_expression }}, 1, 4) <> '0000'
    and substr({{ text_expression }}, 9, 2)::integer <= case substr({{ text_expression }}, 6, 2)
        when '02' then case
            when substr({{ text_expression }}, 1, 4)::integer % 4 = 0
                and (
                    substr({{ text_expression }}, 1, 4)::integer % 100 <> 0
                    or substr({{ text_expression }}, 1, 4)::integer % 400 = 0
                )
                then 29
            else 28
        end
        when '04' then 30
        when '06' then 30
        when '09' then 30
        when '11' then 30
        else 31
    end
{%- endmacro %}
