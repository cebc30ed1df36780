{#- The tags the account has now (its most recent tags listing), with the
    API's ticket_count and conversation_count, the number of rows for the tag
    in the conversation_tags bridge. -#}
with

listed_tags as (

    select * from {{ ref('int_helpscout__listed_tags') }}

),

bridge as (

    select tag_id from {{ ref('conversation_tags') }}

),

bridge_counts as (

    select
        tag_id,
        count(*) as conversation_count
    from bridge
    group by tag_id

),

final as (

    select
        listed_tags.tag_id,
        listed_tags.tag_name,
        listed_tags.tag_slug,
        listed_tags.tag_color,
        listed_tags.created_at,
        listed_tags.updated_at,
        listed_tags.ticket_count,
        coalesce(bridge_counts.conversation_count, 0) as conversation_count
    from listed_tags
    left join bridge_counts
        on listed_tags.tag_id = bridge_counts.tag_id

)

select * from final
