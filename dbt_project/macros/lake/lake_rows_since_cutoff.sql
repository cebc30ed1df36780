{#- In an incremental run: only the lake rows loaded since the model's cutoff. -#}
{% macro lake_rows_since_cutoff() -%}
    {%- if is_incremental() -%}
        where loaded_at > {{ incremental_lake_cutoff() }}
    {%- endif -%}
{%- endmacro %}
