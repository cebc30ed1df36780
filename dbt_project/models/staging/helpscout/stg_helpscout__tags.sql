{#- The latest copy of each tag from the tags listing, flattened. Tags that a
    later listing no longer returned stay here (see int_helpscout__listed_tags). -#}
{{
    config(
        unique_key='tag_id',
        present_column='tag_id',
        indexes=[{'columns': ['tag_id'], 'unique': true}],
    )
}}

with

latest_copies as (

    {{ latest_lake_copies(source('helpscout_raw', 'tags'), 'tag_id') }}

),

final as (

    select
        entity_id as tag_id,
        payload ->> 'name' as tag_name,
        payload ->> 'slug' as tag_slug,
        payload ->> 'color' as tag_color,
        {{ json_timestamp("payload ->> 'createdAt'") }} as created_at,
        {{ json_timestamp("payload ->> 'updatedAt'") }} as updated_at,
        {{ json_bigint("payload ->> 'ticketCount'") }} as ticket_count,
        run_id,
        extracted_at,
        lake_id,
        loaded_at as lake_loaded_at
    from latest_copies

)

select * from final
