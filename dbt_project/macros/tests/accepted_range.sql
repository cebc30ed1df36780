{#- Fails for every non-null value of `column_name` outside [min_value, max_value]
    (bounds exclusive with inclusive=false; either bound may be omitted). -#}
{% test accepted_range(model, column_name, min_value=none, max_value=none, inclusive=true) %}
    {%- set lower = [] if min_value is none
        else [column_name ~ (" >= " if inclusive else " > ") ~ min_value] -%}
    {%- set upper = [] if max_value is none
        else [column_name ~ (" <= " if inclusive else " < ") ~ max_value] %}

select *
from {{ model }}
where {{ column_name }} is not null and not ({{ (lower + upper) | join(" and ") or "true" }})

{% endtest %}
