{#- The latest tombstone of each conversation the loader found gone (deleted,
    or merged into another): per conversation, the greatest (detected_at, lake_id).
    Whether the conversation is gone NOW also depends on its latest copy: a copy
    extracted after the tombstone wins (see the conversations mart). -#}
{{
    config(
        unique_key='conversation_id',
        present_column='conversation_id',
        refresh_statistics_every_run=true,
        indexes=[
            {'columns': ['conversation_id'], 'unique': true},
            {'columns': ['lake_loaded_at']},
        ],
    )
}}

with

latest_tombstones as (

    {{ latest_lake_copies(
        source('helpscout_raw', 'conversation_tombstones'),
        'conversation_id',
        version_column='detected_at',
    ) }}

),

final as (

    select
        entity_id as conversation_id,
        reason as removal_reason,
        merged_into_id as merged_into_conversation_id,
        detected_at,
        lake_id,
        loaded_at as lake_loaded_at
    from latest_tombstones

)

select * from final
