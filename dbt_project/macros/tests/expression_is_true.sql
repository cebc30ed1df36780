{#- Fails for every row where `expression` is not true (false or null). With
    `column_name`, the expression is appended to the column (e.g. `>= 0`). -#}
{% test expression_is_true(model, expression, column_name=none) %}
{%- set condition = (column_name ~ " " ~ expression) if column_name else expression %}

select *
from {{ model }}
where not coalesce({{ condition }}, false)

{% endtest %}
