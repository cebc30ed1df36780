{#- The custom field definitions of every mailbox as the latest completed
    fields listing returned them (GET /v2/mailboxes/{id}/fields): one row per
    field, with its dropdown options as a jsonb array. A whole snapshot, rebuilt
    every run (it is small): a deleted field is absent from it. -#}
{{
    config(
        materialized='table',
        indexes=[{'columns': ['field_id'], 'unique': true}],
    )
}}

with

definitions as (

    select distinct on (entity_id)
        entity_id as field_id,
        mailbox_id,
        payload ->> 'name' as field_name,
        lower(payload ->> 'type') as field_type,
        coalesce(payload -> 'required' = 'true'::jsonb, false) as is_required,
        {{ json_bigint("payload ->> 'order'") }} as display_order,
        {{ json_array("payload -> 'options'") }} as dropdown_options,
        run_id,
        extracted_at,
        lake_id,
        loaded_at as lake_loaded_at
    from {{ source('helpscout_raw', 'mailbox_fields') }}
    where run_id = {{ latest_unit_run('fields') }}
    order by entity_id asc, extracted_at desc, lake_id desc

),

final as (

    select * from definitions

)

select * from final
