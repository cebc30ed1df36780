{#- The tag bridge: one row per (conversation, tag) on the conversation's latest
    copy, for every conversation in the conversations mart. tag_name and
    tag_color are the tag's current ones from the tags listing, falling back to
    those embedded in the conversation when the listing does not have the tag.

    Incremental with replace_by_key: a conversation whose copy changed gets
    its rows replaced (tags removed in Help Scout disappear), and conversations
    whose stored names no longer match the listing (a tag renamed, or a tag not
    in the listing) are recomputed too, because a rename does not touch the
    conversations carrying the tag. -#}
{{
    config(
        materialized='incremental',
        unique_key='conversation_id',
        present_column='tag_id',
        post_hook='{{ refresh_statistics() }}',
        indexes=[
            {'columns': ['conversation_id', 'tag_id'], 'unique': true},
            {'columns': ['tag_id']},
            {'columns': ['lake_loaded_at']},
        ],
    )
}}

-- depends_on: {{ ref('stg_helpscout__conversations') }}

with

listed_tags as (

    select
        tag_id,
        tag_name,
        tag_color
    from {{ ref('int_helpscout__listed_tags') }}

),

{%- if is_incremental() %}

    changed_conversations as (

        {{ restaged_conversations() }}
        union
        -- a tag renamed or recoloured, or not listed: a rename does not touch
        -- the conversations carrying the tag
        select bridge_rows.conversation_id
        from {{ this }} as bridge_rows
        left join listed_tags
            on bridge_rows.tag_id = listed_tags.tag_id
        where
            listed_tags.tag_id is null
            or bridge_rows.tag_name is distinct from listed_tags.tag_name
            or bridge_rows.tag_color is distinct from listed_tags.tag_color

    ),
{%- endif %}

conversation_tags as (

    select conversation_tags.*
    from {{ ref('stg_helpscout__conversation_tags') }} as conversation_tags
    {%- if is_incremental() %}
        where conversation_tags.conversation_id in (
            select changed_conversations.conversation_id from changed_conversations
        )
    {%- endif %}

),

bridge as (

    select
        conversation_tags.conversation_id,
        conversation_tags.tag_id,
        coalesce(listed_tags.tag_name, conversation_tags.tag_name) as tag_name,
        coalesce(listed_tags.tag_color, conversation_tags.tag_color) as tag_color,
        conversation_tags.lake_loaded_at
    from conversation_tags
    left join listed_tags
        on conversation_tags.tag_id = listed_tags.tag_id

),

final as (

    {{ replace_by_key_rows('bridge', keys_from='changed_conversations', key='conversation_id') }}  -- noqa: RF02, ST07

)

select * from final
