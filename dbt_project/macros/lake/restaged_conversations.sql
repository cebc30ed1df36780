{#- The conversations an incremental model must redo: those staged (in
    stg_helpscout__conversations) since the model's high-water mark less the
    lookback, whose rows in the model (`this`) were built from another copy:
    the model's `held_column` differs from the staged `staged_column`. Rows the
    lookback reads again are thus not redone. A conversation with no row in the
    model is always redone (cheap: it has nothing to replace). Selects `columns`
    of the staged conversation. Only call it when is_incremental(). -#}
{% macro restaged_conversations(held_column='lake_loaded_at', staged_column='lake_loaded_at',
                                columns=['conversation_id']) -%}
    select {{ "staged." ~ columns | join(", staged.") }}
    from {{ ref('stg_helpscout__conversations') }} as staged
    where
        staged.lake_loaded_at > {{ incremental_lake_cutoff() }}
        and not exists (
            select 1
            from {{ this }} as held
            where
                held.conversation_id = staged.conversation_id
                and held.{{ held_column }} = staged.{{ staged_column }}
        )
{%- endmacro %}
