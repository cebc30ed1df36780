{#- The latest copy of each customer the lake holds (GET /v2/customers, read in
    modifiedAt windows), flattened. primary_email is the first address the API
    lists under `_embedded.emails`. -#}
{{
    config(
        unique_key='customer_id',
        present_column='customer_id',
        indexes=[
            {'columns': ['customer_id'], 'unique': true},
            {'columns': ['lake_loaded_at']},
        ],
    )
}}

with

latest_copies as (

    {{ latest_lake_copies(source('helpscout_raw', 'customers'), 'customer_id') }}

),

final as (

    select
        entity_id as customer_id,
        nullif(payload ->> 'firstName', '') as first_name,
        nullif(payload ->> 'lastName', '') as last_name,
        nullif(payload ->> 'organization', '') as organization,
        nullif(payload ->> 'jobTitle', '') as job_title,
        nullif(payload ->> 'location', '') as location,  -- noqa: RF04
        case
            when jsonb_typeof(payload -> '_embedded' -> 'emails') = 'array'
                then nullif(payload -> '_embedded' -> 'emails' -> 0 ->> 'value', '')
        end as primary_email,
        {{ json_timestamp("payload ->> 'createdAt'") }} as created_at,
        {{ json_timestamp("payload ->> 'updatedAt'") }} as updated_at,
        run_id,
        extracted_at,
        lake_id,
        loaded_at as lake_loaded_at
    from latest_copies

)

select * from final
