{#- The custom field bridge: one row per field set on a conversation's latest
    copy, for every conversation in the conversations mart. field_name is the
    field's current name from the mailbox's definitions, falling back to the
    name embedded in the conversation when the definitions do not have the
    field (deleted, or not loaded). Removing a value in Help Scout removes its
    row at the next build.

    Incremental with replace_by_key, as conversation_tags: a conversation whose
    copy changed gets its rows replaced, and so do the conversations whose
    stored field name is no longer the one the definitions (or, for a field
    they lack, the conversation's copy) give, because renaming or deleting a
    field does not touch the conversations carrying it. -#}
{{
    config(
        materialized='incremental',
        unique_key='conversation_id',
        present_column='field_id',
        post_hook='{{ refresh_statistics() }}',
        indexes=[
            {'columns': ['conversation_id', 'field_id'], 'unique': true},
            {'columns': ['lake_loaded_at']},
        ],
    )
}}

-- depends_on: {{ ref('stg_helpscout__conversations') }}

with

definitions as (

    select * from {{ ref('stg_helpscout__custom_fields') }}

),

{%- if is_incremental() %}

    changed_conversations as (

        {{ restaged_conversations() }}
        union
        -- a field renamed, or gone from the definitions (its name is then the copy's)
        select bridge_rows.conversation_id
        from {{ this }} as bridge_rows
        left join definitions
            on bridge_rows.field_id = definitions.field_id
        where
            bridge_rows.field_name is distinct from coalesce(
                definitions.field_name,
                (
                    select staged.field_name
                    from {{ ref('stg_helpscout__conversation_custom_fields') }} as staged
                    where
                        staged.conversation_id = bridge_rows.conversation_id
                        and staged.field_id = bridge_rows.field_id
                )
            )

    ),
{%- endif %}

conversation_custom_fields as (

    select conversation_custom_fields.*
    from {{ ref('stg_helpscout__conversation_custom_fields') }} as conversation_custom_fields
    {{ only_changed_conversations('conversation_custom_fields.conversation_id') }}

),

conversations as (

    select conversation_id from {{ ref('conversations') }}

),

bridge as (

    select
        conversation_custom_fields.conversation_id,
        conversation_custom_fields.field_id,
        coalesce(definitions.field_name, conversation_custom_fields.field_name) as field_name,
        conversation_custom_fields.field_value as value,  -- noqa: RF04
        conversation_custom_fields.field_text as text,  -- noqa: RF04
        conversation_custom_fields.lake_loaded_at
    from conversation_custom_fields
    inner join conversations
        on conversation_custom_fields.conversation_id = conversations.conversation_id
    left join definitions
        on conversation_custom_fields.field_id = definitions.field_id

),

final as (

    {{ replace_by_key_rows('bridge', keys_from='changed_conversations', key='conversation_id') }}  -- noqa: RF02, ST07

)

select * from final
