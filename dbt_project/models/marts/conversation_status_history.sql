{#- What status each conversation had, and when: one row per interval, read from
    the statuses its threads set (a thread's status is `nochange` unless that
    thread changed the conversation's), plus an `observed` last interval when
    the latest copy's status differs from the one the threads end on (the status
    changed without a thread we hold). See the contract and docs/helpscout.md
    for the rules; in short:
    - the first interval starts at created_at with the status of the earliest
      status thread (`active` when there is none); threads are taken in
      (created_at, thread_id) order, and a thread starts an interval when its
      status differs from the previous status thread's (the status in force);
    - no interval starts before created_at: a merge can bring in threads older
      than the conversation, whose starts are moved to created_at;
    - an observed interval starts at closed_at when the status is `closed` and
      closed_at is later than the last status thread (and created_at), else at
      the extraction of the earliest lake copy that shows the current status
      after the last status thread; when none does (Help Scout's clock ahead of
      ours dated a thread after the copy holding it was fetched), at the last
      status thread, so intervals still run forward.

    Incremental: redoes the conversations whose latest copy changed (as the
    threads model does); replace_by_key drops their old intervals first. -#}
{{
    config(
        materialized='incremental',
        unique_key='conversation_id',
        present_column='interval_number',
        post_hook='{{ refresh_statistics() }}',
        indexes=[
            {'columns': ['conversation_id', 'interval_number'], 'unique': true},
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
            columns=['conversation_id', 'lake_id', 'status', 'created_at', 'closed_at',
                     'extracted_at', 'lake_loaded_at'],
        ) }}
    {%- else %}
        select
            conversation_id,
            lake_id,
            status,
            created_at,
            closed_at,
            extracted_at,
            lake_loaded_at
        from {{ ref('stg_helpscout__conversations') }}
    {%- endif %}

),

lake_copies as (

    select * from {{ source('helpscout_raw', 'conversations') }}

),

status_threads as (

    select
        threads.conversation_id,
        threads.thread_id,
        threads.status,
        threads.created_at,
        row_number() over (
            partition by threads.conversation_id
            order by threads.created_at asc, threads.thread_id asc
        ) as thread_rank,
        lag(threads.status) over (
            partition by threads.conversation_id
            order by threads.created_at asc, threads.thread_id asc
        ) as previous_status
    from {{ ref('stg_helpscout__threads') }} as threads
    inner join conversations
        on
            threads.conversation_id = conversations.conversation_id
            and threads.conversation_lake_id = conversations.lake_id
    where
        threads.status in ('active', 'pending', 'closed', 'spam')
        and threads.created_at is not null

),

thread_ends as (

    -- the status the threads end on, and when the last status thread was written
    select
        conversation_id,
        (array_agg(status order by created_at desc, thread_id desc))[1] as end_status,
        max(created_at) as last_status_thread_at
    from status_threads
    group by conversation_id

),

thread_starts as (

    select
        status_threads.conversation_id,
        -- the first interval starts at creation, whenever its thread was written
        case
            when status_threads.thread_rank = 1 then conversations.created_at
            else greatest(status_threads.created_at, conversations.created_at)
        end as valid_from,
        status_threads.status,
        status_threads.thread_id as set_by_thread_id,
        'thread' as source,  -- noqa: RF04
        status_threads.thread_rank as start_rank
    from status_threads
    inner join conversations
        on status_threads.conversation_id = conversations.conversation_id
    where
        conversations.created_at is not null
        and (
            status_threads.thread_rank = 1
            or status_threads.status != status_threads.previous_status
        )

),

default_starts as (

    -- no thread set a status: active since creation
    select
        conversations.conversation_id,
        conversations.created_at as valid_from,
        'active' as status,
        null::bigint as set_by_thread_id,
        'thread' as source,  -- noqa: RF04
        0::bigint as start_rank
    from conversations
    left join thread_ends
        on conversations.conversation_id = thread_ends.conversation_id
    where
        conversations.created_at is not null
        and thread_ends.conversation_id is null

),

mismatched as (

    select
        conversations.conversation_id,
        conversations.status,
        conversations.created_at,
        conversations.closed_at,
        conversations.extracted_at,
        thread_ends.last_status_thread_at
    from conversations
    left join thread_ends
        on conversations.conversation_id = thread_ends.conversation_id
    where
        conversations.created_at is not null
        and conversations.status in ('active', 'pending', 'closed', 'spam')
        and conversations.status != coalesce(thread_ends.end_status, 'active')

),

observed_starts as (

    select
        mismatched.conversation_id,
        greatest(
            mismatched.created_at,
            case
                when
                    mismatched.status = 'closed'
                    and mismatched.closed_at
                    > greatest(mismatched.last_status_thread_at, mismatched.created_at)
                    then mismatched.closed_at
                -- no copy extracted after the last status thread shows it: only a
                -- clock ahead of ours makes that, and the interval still may not
                -- start before that thread
                else greatest(
                    coalesce(first_shown.extracted_at, mismatched.extracted_at),
                    mismatched.last_status_thread_at
                )
            end
        ) as valid_from,
        mismatched.status,
        null::bigint as set_by_thread_id,
        'observed' as source,  -- noqa: RF04
        9223372036854775807 as start_rank
    from mismatched
    left join lateral (
        -- the earliest copy showing the current status after the last status thread
        select min(lake_copies.extracted_at) as extracted_at
        from lake_copies
        where
            lake_copies.entity_id = mismatched.conversation_id
            and lake_copies.payload ->> 'status' = mismatched.status
            and (
                mismatched.last_status_thread_at is null
                or lake_copies.extracted_at > mismatched.last_status_thread_at
            )
    ) as first_shown on true

),

starts as (

    select * from thread_starts
    union all
    select * from default_starts
    union all
    select * from observed_starts

),

numbered as (

    select
        starts.conversation_id,
        row_number() over (
            partition by starts.conversation_id order by starts.start_rank
        ) as interval_number,
        starts.status,
        lag(starts.status) over (
            partition by starts.conversation_id order by starts.start_rank
        ) as previous_status,
        starts.valid_from,
        lead(starts.valid_from) over (
            partition by starts.conversation_id order by starts.start_rank
        ) as valid_to,
        starts.set_by_thread_id,
        starts.source
    from starts

),

intervals as (

    select
        numbered.conversation_id,
        numbered.interval_number,
        numbered.status,
        numbered.valid_from,
        numbered.valid_to,
        numbered.valid_to is null as is_current,
        numbered.set_by_thread_id,
        numbered.source,
        numbered.previous_status,
        coalesce(
            numbered.previous_status = 'closed' and numbered.status in ('active', 'pending'),
            false
        ) as is_reopening,
        conversations.lake_id as conversation_lake_id,
        conversations.lake_loaded_at
    from numbered
    inner join conversations
        on numbered.conversation_id = conversations.conversation_id

),

final as (

    {{ replace_by_key_rows('intervals', keys_from='conversations', key='conversation_id') }}  -- noqa: RF02, ST07

)

select * from final
