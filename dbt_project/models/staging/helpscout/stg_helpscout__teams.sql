{#- The latest copy of each team from the teams listing, flattened. -#}
{{
    config(
        unique_key='team_id',
        present_column='team_id',
        indexes=[{'columns': ['team_id'], 'unique': true}],
    )
}}

with

latest_copies as (

    {{ latest_lake_copies(source('helpscout_raw', 'teams'), 'team_id') }}

),

final as (

    select
        entity_id as team_id,
        payload ->> 'name' as team_name,
        payload ->> 'timezone' as timezone,
        {{ json_timestamp("payload ->> 'createdAt'") }} as created_at,
        {{ json_timestamp("payload ->> 'updatedAt'") }} as updated_at,
        run_id,
        extracted_at,
        lake_id,
        loaded_at as lake_loaded_at
    from latest_copies

)

select * from final
