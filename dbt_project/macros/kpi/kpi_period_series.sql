{#- The periods (of `grain`) from the one holding `first_at` to the one holding `last_at`. -#}
{% macro kpi_period_series(grain, first_at, last_at) -%}
    lateral generate_series(
            date_trunc('{{ grain }}', {{ first_at }}),
            date_trunc('{{ grain }}', {{ last_at }}),
            interval '1 {{ grain }}'
        ) as spine (period_start)
{%- endmacro %}
