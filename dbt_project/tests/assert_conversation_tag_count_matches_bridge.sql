-- conversations.tag_count is the number of rows for the conversation in the
-- conversation_tags bridge (both incremental: they must agree after any run)
with

bridge_counts as (

    select
        conversation_id,
        count(*) as bridge_rows
    from {{ ref('conversation_tags') }}
    group by conversation_id

),

final as (

    select
        conversations.conversation_id,
        conversations.tag_count,
        coalesce(bridge_counts.bridge_rows, 0) as bridge_rows
    from {{ ref('conversations') }} as conversations
    left join bridge_counts
        on conversations.conversation_id = bridge_counts.conversation_id
    where conversations.tag_count <> coalesce(bridge_counts.bridge_rows, 0)

)

select * from final
