{#- One row per thread of the conversations in the conversations mart (bodies
    stay in the lake).

    A thread belongs to ONE conversation: when a merge moves threads into the
    target conversation, the same thread id is in the merged-away
    conversation's last copy and in the target's copy. The owner is the
    conversation whose latest copy containing the thread was extracted last
    (ties: the later lake row), i.e. the target after a merge. The rule needs
    no tombstone, so it holds however late the reconciliation runs.

    Incremental with replace_by_key: for the conversations whose copy changed,
    every thread they hold now or owned before gets its owner decided again
    among all conversations that hold it (and is dropped if none holds it). -#}
{{
    config(
        materialized='incremental',
        unique_key='thread_id',
        present_column='conversation_id',
        post_hook='{{ refresh_statistics() }}',
        indexes=[
            {'columns': ['thread_id'], 'unique': true},
            {'columns': ['conversation_id']},
            {'columns': ['lake_loaded_at']},
        ],
    )
}}

-- depends_on: {{ ref('stg_helpscout__conversations') }}

with

{%- if is_incremental() %}

    changed_conversations as (

        {{ restaged_conversations() }}

    ),

    affected_threads as (

        select staged_threads.thread_id
        from {{ ref('stg_helpscout__threads') }} as staged_threads
        where
            staged_threads.conversation_id in (
                select changed_conversations.conversation_id from changed_conversations
            )
        union
        select owned_before.thread_id
        from {{ this }} as owned_before
        where owned_before.conversation_id in (
            select changed_conversations.conversation_id from changed_conversations
        )

    ),
{%- endif %}

candidate_threads as (

    select staged_threads.*
    from {{ ref('stg_helpscout__threads') }} as staged_threads
    {%- if is_incremental() %}
        where staged_threads.thread_id in (select affected_threads.thread_id from affected_threads)
    {%- endif %}

),

ranked_threads as (

    select
        *,
        row_number() over (
            partition by thread_id
            order by conversation_extracted_at desc, conversation_lake_id desc
        ) as owner_rank
    from candidate_threads

),

owned_threads as (

    select
        thread_id,
        conversation_id,
        thread_type,
        status,
        state,
        created_at,
        created_by_id,
        created_by_type,
        {{ personal_value('created_by_email', is_email=true) }} as created_by_email,
        source_type,
        source_via,
        is_user_reply,
        lake_loaded_at
    from ranked_threads
    where owner_rank = 1

),

final as (

    {{ replace_by_key_rows('owned_threads', keys_from='affected_threads', key='thread_id') }}  -- noqa: RF02, ST07

)

select * from final
