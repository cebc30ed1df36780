-- conversations.tag_count is the number of rows for the conversation in the
-- conversation_tags bridge (both incremental: they must agree after any run);
-- checks the recently built conversations (see the recently_built macro)
with

recent_conversations as (

    select
        conversations.conversation_id,
        conversations.tag_count
    from {{ ref('conversations') }} as conversations
    where {{ recently_built('conversations', ref('conversations')) }}

),

bridge_counts as (

    select
        bridge.conversation_id,
        count(*) as bridge_rows
    from {{ ref('conversation_tags') }} as bridge
    where
        bridge.conversation_id in (
            select recent_conversations.conversation_id from recent_conversations
        )
    group by bridge.conversation_id

),

final as (

    select
        recent_conversations.conversation_id,
        recent_conversations.tag_count,
        coalesce(bridge_counts.bridge_rows, 0) as bridge_rows
    from recent_conversations
    left join bridge_counts
        on recent_conversations.conversation_id = bridge_counts.conversation_id
    where recent_conversations.tag_count <> coalesce(bridge_counts.bridge_rows, 0)

)

select * from final
