{#- The tags of each conversation's latest copy, one row per (conversation, tag).
    A view over stg_helpscout__conversations: exploding the small tags array is
    cheap, and a filter on conversation_id reaches the table's index.

    Odd shapes never fail: a `tags` value that is not an array was already made
    empty upstream; elements that are not objects or carry no whole-number id
    are skipped; a tag listed twice counts once. The name and colour are the
    ones embedded in that copy (the name at the time it was fetched; under `tag`,
    or `name` as in the tags listing). -#}
{{ config(materialized='view') }}

with

conversations as (

    select
        conversation_id,
        tags,
        lake_loaded_at
    from {{ ref('stg_helpscout__conversations') }}

),

tag_elements as (

    select
        conversations.conversation_id,
        conversations.lake_loaded_at,
        elements.tag,
        elements.tag_position
    from conversations
    cross join
        lateral jsonb_array_elements(conversations.tags)
        with ordinality as elements (tag, tag_position)
    where jsonb_typeof(elements.tag) = 'object'

),

final as (

    select distinct on (conversation_id, tag_id)
        conversation_id,
        {{ json_bigint("tag ->> 'id'") }} as tag_id,
        coalesce(tag ->> 'tag', tag ->> 'name') as tag_name,
        tag ->> 'color' as tag_color,
        lake_loaded_at
    from tag_elements
    where {{ json_bigint("tag ->> 'id'") }} is not null
    order by conversation_id asc, tag_id asc, tag_position asc

)

select * from final
