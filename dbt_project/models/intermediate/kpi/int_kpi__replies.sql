{#- User replies (the contract's is_user_reply) on the conversations the KPI marts
    count, attributed to the conversation's current mailbox. -#}
{{ config(indexes=[{'columns': ['thread_id'], 'unique': true}]) }}

with

threads as (

    select * from {{ ref('threads') }}

),

kpi_conversations as (

    select * from {{ ref('int_kpi__conversations') }}

),

final as (

    select
        threads.thread_id,
        threads.conversation_id,
        kpi_conversations.mailbox_id,
        threads.created_by_id as user_id,
        threads.created_at,
        {{ kpi_local('threads.created_at') }} as created_at_local

    from threads
    inner join kpi_conversations
        on threads.conversation_id = kpi_conversations.conversation_id
    where
        threads.is_user_reply
        and threads.created_at is not null

)

select * from final
