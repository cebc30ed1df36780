{#- The latest copy of each mailbox from the mailboxes listing, flattened. -#}
{{
    config(
        unique_key='mailbox_id',
        present_column='mailbox_id',
        indexes=[{'columns': ['mailbox_id'], 'unique': true}],
    )
}}

with

latest_copies as (

    {{ latest_lake_copies(source('helpscout_raw', 'mailboxes'), 'mailbox_id') }}

),

final as (

    select
        entity_id as mailbox_id,
        payload ->> 'name' as mailbox_name,
        payload ->> 'slug' as mailbox_slug,
        payload ->> 'email' as mailbox_email,
        {{ json_timestamp("payload ->> 'createdAt'") }} as created_at,
        {{ json_timestamp("payload ->> 'updatedAt'") }} as updated_at,
        run_id,
        extracted_at,
        lake_id,
        loaded_at as lake_loaded_at
    from latest_copies

)

select * from final
