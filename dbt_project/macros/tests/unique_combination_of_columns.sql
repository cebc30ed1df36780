{#- Fails for every combination of `combination_of_columns` that occurs more
    than once (the grain of a bridge or of a child table). Rows where any of the
    columns is null count as combinations too. -#}
{% test unique_combination_of_columns(model, combination_of_columns) %}

with

grouped as (

    select
        {{ combination_of_columns | join(", ") }},
        count(*) as occurrences
    from {{ model }}
    group by {{ combination_of_columns | join(", ") }}

)

select * from grouped
where occurrences > 1

{% endtest %}
