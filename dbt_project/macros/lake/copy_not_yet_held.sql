{#- In an incremental run: keep a copy only if the model (`this`) holds neither
    it nor a newer copy of the same entity, compared on (version_column, lake_id). -#}
{% macro copy_not_yet_held(key_column, version_column) -%}
    {%- if is_incremental() -%}
        and not exists (
            select 1
            from {{ this }} as modelled
            where
                modelled.{{ key_column }} = lake.entity_id
                and (modelled.{{ version_column }}, modelled.lake_id)
                >= (lake.{{ version_column }}, lake.lake_id)
        )
    {%- endif -%}
{%- endmacro %}
