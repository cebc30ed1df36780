{#- One row per thread of each conversation's latest copy (the copy that
    stg_helpscout__conversations chose), flattened; bodies stay in the lake.
    A thread id can appear under two conversations here (a merge moves the
    threads of the merged-away conversation to the target); the `threads` mart
    decides which conversation owns it.

    Incremental: re-explodes the conversations whose chosen copy changed: among
    those staged since this model's high-water mark (less the lookback), the ones
    whose threads here come from another copy. `replace_by_key` drops their old
    threads first, so a conversation whose new copy has fewer threads loses the
    others. -#}
{{
    config(
        unique_key='conversation_id',
        present_column='thread_id',
        indexes=[
            {'columns': ['conversation_id', 'thread_id'], 'unique': true},
            {'columns': ['thread_id']},
            {'columns': ['lake_loaded_at']},
        ],
    )
}}

with

conversations as (

    {%- if is_incremental() %}
        {{ restaged_conversations(
            held_column='conversation_lake_id',
            staged_column='lake_id',
            columns=['conversation_id', 'lake_id', 'extracted_at', 'lake_loaded_at'],
        ) }}
    {%- else %}
        select
            conversation_id,
            lake_id,
            extracted_at,
            lake_loaded_at
        from {{ ref('stg_helpscout__conversations') }}
    {%- endif %}

),

copies as (

    select
        conversations.conversation_id,
        conversations.lake_id,
        conversations.extracted_at,
        conversations.lake_loaded_at,
        lake.payload
    from conversations
    inner join {{ source('helpscout_raw', 'conversations') }} as lake
        on conversations.lake_id = lake.lake_id

),

thread_elements as (

    select
        copies.conversation_id,
        copies.lake_id,
        copies.extracted_at,
        copies.lake_loaded_at,
        elements.thread,
        elements.thread_position
    from copies
    cross join lateral jsonb_array_elements(
        {{ json_array("copies.payload -> '_embedded' -> 'threads'") }}
    ) with ordinality as elements (thread, thread_position)

),

flattened as (

    select
        {{ json_bigint("thread ->> 'id'") }} as thread_id,
        conversation_id,
        thread ->> 'type' as thread_type,
        thread ->> 'status' as status,
        thread ->> 'state' as state,
        {{ json_timestamp("thread ->> 'createdAt'") }} as created_at,
        {{ json_bigint("thread -> 'createdBy' ->> 'id'") }} as created_by_id,
        thread -> 'createdBy' ->> 'type' as created_by_type,
        thread -> 'createdBy' ->> 'email' as created_by_email,
        thread -> 'source' ->> 'type' as source_type,
        thread -> 'source' ->> 'via' as source_via,
        thread -> 'action' ->> 'type' as action_type,
        extracted_at as conversation_extracted_at,
        lake_id as conversation_lake_id,
        lake_loaded_at,
        thread_position
    from thread_elements

),

threads as (

    -- a thread listed twice in one copy (pages that overlapped) counts once
    select distinct on (conversation_id, thread_id)
        thread_id,
        conversation_id,
        thread_type,
        status,
        state,
        created_at,
        created_by_id,
        created_by_type,
        created_by_email,
        source_type,
        source_via,
        action_type,
        coalesce(
            thread_type in ('reply', 'message') and created_by_type = 'user', false
        ) as is_user_reply,
        conversation_extracted_at,
        conversation_lake_id,
        lake_loaded_at
    from flattened
    where thread_id is not null
    order by conversation_id asc, thread_id asc, thread_position asc

),

final as (

    {{ replace_by_key_rows('threads', keys_from='conversations', key='conversation_id') }}  -- noqa: RF02, ST07

)

select * from final
