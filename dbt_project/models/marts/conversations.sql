{#- One row per conversation ever seen, in its latest known state, with the
    thread and tag counts, first response, resolution and the flags analysts
    filter on. Counts come from the threads and tags of the conversation's own
    latest copy.

    Removed (deleted or merged away) when the latest tombstone is later than
    the latest copy: int_helpscout__conversation_removals.

    Incremental: redoes only the conversations whose latest copy or tombstone
    changed (the changed_conversations macro), those whose closer is known only by closedBy and
    whose email in `users` is not the one the row holds, and those still
    waiting for a first response within the SLA (sla_waiting_conversations).
    lake_loaded_at is the latest of the copy's and the tombstone's load times
    and, for a closer named only by closedBy, the first listing of what the
    users listings now say of that user (int_helpscout__users.listing_state_at).
    So every change of a row comes with a later lake_loaded_at, except an SLA
    breach (models downstream that hold the flag redo the waiting rows
    themselves) and a closer email that only another conversation's copy gives
    (a user no listing has: it reaches the row at its next copy or a full
    refresh, never as a date that a later load moves).
    reopen_count comes from conversation_status_history, built from the same
    copies in the same run. Changing internal_email_domains,
    system_closer_emails, the business-hours vars or the holidays seed needs a
    --full-refresh of this model. The (is_first_response_sla_breached,
    first_response_at) index finds the waiting rows without a scan. -#}
{{
    config(
        materialized='incremental',
        unique_key='conversation_id',
        present_column='conversation_id',
        post_hook='{{ refresh_statistics() }}',
        indexes=[
            {'columns': ['conversation_id'], 'unique': true},
            {'columns': ['lake_loaded_at']},
            {'columns': ['created_at']},
            {'columns': ['mailbox_id']},
            {'columns': ['is_first_response_sla_breached', 'first_response_at']},
        ],
    )
}}

-- depends_on: {{ ref('stg_helpscout__conversation_tombstones') }}

with

{%- if is_incremental() %}

    changed_conversations as (

        {{ changed_conversations() }}
        union
        {{ sla_waiting_conversations() }}

        union

        -- a closer named only by closedBy whose email the users mart now tells otherwise
        select held.conversation_id
        from {{ this }} as held
        inner join {{ ref('stg_helpscout__conversations') }} as staged
            on held.conversation_id = staged.conversation_id
        left join {{ ref('int_helpscout__users') }} as closers
            on held.closed_by_user_id = closers.user_id
        where
            held.closed_by_user_id is not null
            and staged.closed_by_user_email is null
            and held.closed_by_user_email is distinct from closers.email

    ),
{%- endif %}

-- not materialized: thread_counts reads it too, and a copy of every staged
-- conversation (a full build) would cost more than reading it twice
conversations as not materialized (

    select conversations.*
    from {{ ref('stg_helpscout__conversations') }} as conversations
    {{ only_changed_conversations('conversations.conversation_id') }}

),

threads as (

    select
        threads.conversation_id,
        threads.thread_type,
        threads.created_at,
        threads.is_user_reply
    from {{ ref('stg_helpscout__threads') }} as threads
    {{ only_changed_conversations('threads.conversation_id') }}

),

conversation_tags as (

    select conversation_tags.conversation_id
    from {{ ref('stg_helpscout__conversation_tags') }} as conversation_tags
    {{ only_changed_conversations('conversation_tags.conversation_id') }}

),

users as (

    select
        user_id,
        email,
        listing_state_at
    from {{ ref('int_helpscout__users') }}

),

status_history as (

    select
        status_history.conversation_id,
        status_history.is_reopening
    from {{ ref('conversation_status_history') }} as status_history
    {{ only_changed_conversations('status_history.conversation_id') }}

),

reopenings as (

    select
        conversation_id,
        count(*) filter (where is_reopening) as reopen_count
    from status_history
    group by conversation_id

),

removals as (

    select removals.*
    from {{ ref('int_helpscout__conversation_removals') }} as removals
    {{ only_changed_conversations('removals.conversation_id') }}

),

thread_counts as (

    select
        threads.conversation_id,
        count(*) filter (where threads.thread_type = 'customer') as customer_message_count,
        count(*) filter (where threads.is_user_reply) as reply_count,
        count(*) filter (where threads.thread_type = 'note') as note_count,
        min(threads.created_at) filter (
            where threads.is_user_reply and threads.created_at >= parents.created_at
        ) as first_user_reply_at
    from threads
    -- the parents of the changed threads are the changed conversations
    inner join conversations as parents
        on threads.conversation_id = parents.conversation_id
    group by threads.conversation_id

),

tag_counts as (

    select
        conversation_id,
        count(*) as tag_count
    from conversation_tags
    group by conversation_id

),

joined as (

    select
        conversations.*,
        coalesce(thread_counts.customer_message_count, 0) as customer_message_count,
        coalesce(thread_counts.reply_count, 0) as reply_count,
        coalesce(thread_counts.note_count, 0) as note_count,
        coalesce(tag_counts.tag_count, 0) as tag_count,
        -- a conversation a user started has no first response
        case
            when not coalesce(conversations.created_by_type = 'user', false)
                then thread_counts.first_user_reply_at
        end as first_response_at,
        removals.removal_reason,
        removals.merged_into_conversation_id,
        coalesce(reopenings.reopen_count, 0) as reopen_count,
        -- closedByUser's email, else the closedBy user's in `users`
        coalesce(conversations.closed_by_user_email, users.email) as closer_email,
        -- a closer email found in `users` dates the row too, so that models
        -- downstream see the change of its is_closed_by_system by load time
        greatest(
            conversations.lake_loaded_at,
            removals.tombstone_loaded_at,
            case when conversations.closed_by_user_email is null then users.listing_state_at end
        ) as source_loaded_at
    from conversations
    left join thread_counts
        on conversations.conversation_id = thread_counts.conversation_id
    left join tag_counts
        on conversations.conversation_id = tag_counts.conversation_id
    left join removals
        on conversations.conversation_id = removals.conversation_id
    left join reopenings
        on conversations.conversation_id = reopenings.conversation_id
    left join users
        on conversations.closed_by_user_id = users.user_id

),

business_time as (

    {{ business_time_spans('joined') }}

),

timed as (

    select
        joined.*,
        business_time.first_response_business_minutes,
        business_time.resolution_business_minutes,
        business_time.is_first_response_sla_breached
    from joined
    left join business_time
        on joined.conversation_id = business_time.conversation_id

),

final as (

    select
        conversation_id,
        conversation_number,
        mailbox_id,
        folder_id,
        conversation_type as type,
        status,
        state,
        subject,
        -- "RE: Fwd:  re:hello" -> "hello": leading re:/fw:/fwd: prefixes with any
        -- spacing, then surrounding white space
        regexp_replace(lower(subject), '^\s*((re|fwd?)\s*:\s*)*|\s+$', '', 'g')
            as subject_normalized,
        source_type,
        source_via,
        created_at,
        closed_at,
        user_updated_at,
        customer_waiting_since_at,
        created_by_id,
        created_by_type,
        {{ personal_value('created_by_email', is_email=true) }} as created_by_email,
        closed_by_user_id,
        {{ personal_value('closer_email', is_email=true) }} as closed_by_user_email,
        assignee_id,
        {{ personal_value('assignee_email', is_email=true) }} as assignee_email,
        primary_customer_id,
        {{ personal_value('primary_customer_email', is_email=true) }} as primary_customer_email,
        thread_count,
        customer_message_count,
        reply_count,
        note_count,
        tag_count,
        first_response_at,
        extract(epoch from first_response_at - created_at) / 60 as first_response_minutes,
        case
            when status = 'closed'
                then extract(epoch from closed_at - created_at) / 60
        end as resolution_minutes,
        first_response_business_minutes,
        resolution_business_minutes,
        is_first_response_sla_breached,
        coalesce(status = 'spam', false) as is_spam,
        coalesce(state = 'deleted', false) or removal_reason is not null as is_deleted,
        coalesce(
            created_by_type = 'user'
            or lower(substring(btrim(created_by_email) from '@([^@]+)$'))
            = any({{ lower_text_array(var('internal_email_domains')) }}),
            false
        ) as is_internal,
        coalesce(
            lower(btrim(closer_email))
            = any({{ lower_text_array(var('system_closer_emails')) }}),
            false
        ) as is_closed_by_system,
        coalesce(status = 'closed' and reply_count > 0, false) as is_resolved,
        reopen_count,
        removal_reason,
        merged_into_conversation_id,
        extracted_at,
        source_loaded_at as lake_loaded_at
    from timed

)

select * from final
