{#- The latest copy of each user from the users listing, flattened. -#}
{{
    config(
        unique_key='user_id',
        present_column='user_id',
        indexes=[{'columns': ['user_id'], 'unique': true}],
    )
}}

with

latest_copies as (

    {{ latest_lake_copies(source('helpscout_raw', 'users'), 'user_id') }}

),

final as (

    select
        entity_id as user_id,
        payload ->> 'firstName' as first_name,
        payload ->> 'lastName' as last_name,
        payload ->> 'email' as email,
        payload ->> 'role' as role,
        payload ->> 'type' as user_type,
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
