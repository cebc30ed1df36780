{#- The latest copy of each conversation the lake holds, flattened into typed
    columns. Thread-level detail is in stg_helpscout__threads; the tags stay a
    (normalised) jsonb array here and are exploded by stg_helpscout__conversation_tags. -#}
{{
    config(
        unique_key='conversation_id',
        present_column='conversation_id',
        refresh_statistics_every_run=true,
        indexes=[
            {'columns': ['conversation_id'], 'unique': true},
            {'columns': ['lake_loaded_at']},
        ],
    )
}}

with

latest_copies as (

    {{ latest_lake_copies(source('helpscout_raw', 'conversations'), 'conversation_id') }}

),

documents as (

    -- The payload without its threads, computed once per row: a payload is
    -- stored compressed, and every `->` on it would decompress it again (many
    -- times slower). `offset 0` keeps the planner from inlining this expression
    -- into each column below.
    select
        entity_id,
        extracted_at,
        lake_id,
        loaded_at,
        payload - '_embedded' as payload
    from latest_copies
    offset 0  -- noqa: AM09

),

final as (

    select
        entity_id as conversation_id,
        {{ json_bigint("payload ->> 'number'") }} as conversation_number,
        {{ json_bigint("payload ->> 'mailboxId'") }} as mailbox_id,
        {{ json_bigint("payload ->> 'folderId'") }} as folder_id,
        payload ->> 'type' as conversation_type,
        payload ->> 'status' as status,
        payload ->> 'state' as state,
        payload ->> 'subject' as subject,
        payload -> 'source' ->> 'type' as source_type,
        payload -> 'source' ->> 'via' as source_via,
        {{ json_timestamp("payload ->> 'createdAt'") }} as created_at,
        {{ json_timestamp("payload ->> 'closedAt'") }} as closed_at,
        {{ json_timestamp("payload ->> 'userUpdatedAt'") }} as user_updated_at,
        {{ json_timestamp("payload -> 'customerWaitingSince' ->> 'time'") }}
            as customer_waiting_since_at,
        {{ json_bigint("payload -> 'createdBy' ->> 'id'") }} as created_by_id,
        payload -> 'createdBy' ->> 'type' as created_by_type,
        payload -> 'createdBy' ->> 'email' as created_by_email,
        coalesce(
            {{ json_bigint("payload -> 'closedByUser' ->> 'id'") }},
            {{ json_bigint("payload ->> 'closedBy'") }}
        ) as closed_by_user_id,
        payload -> 'closedByUser' ->> 'email' as closed_by_user_email,
        {{ json_bigint("payload -> 'assignee' ->> 'id'") }} as assignee_id,
        payload -> 'assignee' ->> 'email' as assignee_email,
        {{ json_bigint("payload -> 'primaryCustomer' ->> 'id'") }} as primary_customer_id,
        payload -> 'primaryCustomer' ->> 'email' as primary_customer_email,
        {{ json_bigint("payload ->> 'threads'") }} as thread_count,
        {{ json_array("payload -> 'tags'") }} as tags,
        extracted_at,
        lake_id,
        loaded_at as lake_loaded_at
    from documents

)

select * from final
