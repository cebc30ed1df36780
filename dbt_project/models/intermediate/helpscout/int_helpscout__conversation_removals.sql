{#- The "a later tombstone wins" rule, written once: for every staged
    conversation with a tombstone, whether the account no longer has it.

    The loader writes a tombstone when a conversation is found deleted or merged
    away; a copy extracted after the tombstone means the conversation came back
    (restored, or the tombstone came from a stale listing), so the later of the
    two wins. removal_reason and merged_into_conversation_id are null when the
    copy is the later one. tombstone_loaded_at is kept either way: the
    conversations mart carries the later of the copy's and the tombstone's load
    times, so that it redoes a conversation whose tombstone arrived late.

    A view: its readers filter it by conversation, and the filter reaches the
    two staging tables' key indexes. -#}
with

conversations as (

    select * from {{ ref('stg_helpscout__conversations') }}

),

tombstones as (

    select * from {{ ref('stg_helpscout__conversation_tombstones') }}

),

final as (

    select
        tombstones.conversation_id,
        case
            when tombstones.detected_at > conversations.extracted_at
                then tombstones.removal_reason
        end as removal_reason,
        case
            when tombstones.detected_at > conversations.extracted_at
                then tombstones.merged_into_conversation_id
        end as merged_into_conversation_id,
        tombstones.detected_at,
        tombstones.lake_loaded_at as tombstone_loaded_at
    from tombstones
    inner join conversations
        on tombstones.conversation_id = conversations.conversation_id

)

select * from final
