{#- The "redo only changed conversations" filter of the conversations mart,
    written once: the conversations whose latest copy or latest tombstone was
    staged since the model's high-water mark (less the lookback) and whose row
    in the model (`this`) was built from another copy or tombstone. Comparing
    the load time alone is not enough: a tombstone that committed late, behind
    its copy's load time, changes the removal without a later load time. Rows
    the lookback reads again are thus not redone. Selects conversation_id.
    Only call it when is_incremental(). -#}
{% macro changed_conversations() -%}
    with

    candidates as (

        select staged.conversation_id
        from {{ ref('stg_helpscout__conversations') }} as staged
        where staged.lake_loaded_at > {{ incremental_lake_cutoff() }}
        union
        select staged.conversation_id
        from {{ ref('stg_helpscout__conversation_tombstones') }} as staged
        where staged.lake_loaded_at > {{ incremental_lake_cutoff() }}

    )

    select candidates.conversation_id
    from candidates
    inner join {{ ref('stg_helpscout__conversations') }} as staged
        on candidates.conversation_id = staged.conversation_id
    left join {{ ref('int_helpscout__conversation_removals') }} as removals
        on candidates.conversation_id = removals.conversation_id
    left join {{ this }} as held
        on candidates.conversation_id = held.conversation_id
    where
        held.lake_loaded_at
        is distinct from greatest(staged.lake_loaded_at, removals.tombstone_loaded_at)
        or held.removal_reason is distinct from removals.removal_reason
        or held.merged_into_conversation_id is distinct from removals.merged_into_conversation_id
{%- endmacro %}
