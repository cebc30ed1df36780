{#- The custom field bridge: one row per field set on a conversation's latest
    copy, for every conversation in the conversations mart. field_name is the
    field's current name from the mailbox's definitions, falling back to the
    name embedded in the conversation when the definitions do not have the
    field (deleted, or not loaded). Removing a value in Help Scout removes its
    row at the next build. -#}
with

conversation_custom_fields as (

    select * from {{ ref('stg_helpscout__conversation_custom_fields') }}

),

definitions as (

    select * from {{ ref('stg_helpscout__custom_fields') }}

),

conversations as (

    select conversation_id from {{ ref('conversations') }}

),

final as (

    select
        conversation_custom_fields.conversation_id,
        conversation_custom_fields.field_id,
        coalesce(definitions.field_name, conversation_custom_fields.field_name) as field_name,
        conversation_custom_fields.field_value as value,  -- noqa: RF04
        conversation_custom_fields.field_text as text  -- noqa: RF04
    from conversation_custom_fields
    inner join conversations
        on conversation_custom_fields.conversation_id = conversations.conversation_id
    left join definitions
        on conversation_custom_fields.field_id = definitions.field_id

)

select * from final
