{#- The latest copy of each entity in a lake table: per entity_id, the row with
    the greatest (`version_column`, lake_id). Selects every lake column.

    Ranks on the narrow columns first and fetches the payload of the winners by
    primary key, so the sort never carries payloads. In an incremental run only
    lake rows loaded since the model's cutoff are read (through the loaded_at
    index), and a copy is kept only if the model does not already hold it or a
    newer copy of that entity: a late-loaded old copy never replaces a newer one,
    and the rows the lookback reads again are not rewritten. The model must
    carry `key_column` (the entity id), `version_column` and `lake_id`. -#}
{% macro latest_lake_copies(lake_relation, key_column, version_column='extracted_at') -%}
    select lake.*
    from {{ lake_relation }} as lake
    inner join (
        select
            lake_id,
            row_number() over (
                partition by entity_id
                order by {{ version_column }} desc, lake_id desc
            ) as copy_rank
        from {{ lake_relation }} {{ lake_rows_since_cutoff() }}
    ) as ranked
        on lake.lake_id = ranked.lake_id
    where
        ranked.copy_rank = 1
        {{ copy_not_yet_held(key_column, version_column) }}
{%- endmacro %}
