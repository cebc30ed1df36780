{#- Satisfaction ratings on the conversations the KPI marts count, attributed to
    the conversation's current mailbox and bucketed by when they were given. -#}
{{ config(indexes=[{'columns': ['rating_id'], 'unique': true}]) }}
with

ratings as (

    select * from {{ ref('satisfaction_ratings') }}

),

kpi_conversations as (

    select * from {{ ref('int_kpi__conversations') }}

),

final as (

    select
        ratings.rating_id,
        ratings.conversation_id,
        kpi_conversations.mailbox_id,
        ratings.rating,
        ratings.created_at,
        {{ kpi_local('ratings.created_at') }} as created_at_local
    from ratings
    inner join kpi_conversations
        on ratings.conversation_id = kpi_conversations.conversation_id
    where
        ratings.created_at is not null
        and ratings.rating is not null

)

select * from final
