{#- Index configs (for a model's `indexes`) on (mailbox_id, kpi_period_key) for
    each of `local_columns` and `grains`: what lets a period-incremental mart
    read only its redo keys (kpi_in_redo_keys) instead of the whole input. An
    expression index, not one on the timestamp: the redo keys are periods, and
    an equality lookup is planned well whatever the number of keys (a range
    join on an unknown bound would be planned as a full scan). -#}
{% macro kpi_period_indexes(local_columns, grains=['day', 'week']) -%}
    {%- set indexes = [] -%}
    {%- for local_column in local_columns -%}
        {%- for grain in grains -%}
            {%- do indexes.append({'columns': ['mailbox_id', '(' ~ kpi_period_key(grain, local_column) ~ ')']}) -%}
        {%- endfor -%}
    {%- endfor -%}
    {{- return(indexes) -}}
{%- endmacro %}
