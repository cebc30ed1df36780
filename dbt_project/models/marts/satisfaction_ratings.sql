{#- One row per satisfaction rating a customer gave a reply, in its latest known
    state (a customer may change a rating). rating_id is the rated thread's id:
    the Reports API gives a rating no id of its own. Ratings of conversations
    found deleted are left out (Help Scout's report drops them too); those of a
    conversation merged away keep its id, as the report does. Comments stay in
    the lake (personal words). -#}
with

ratings as (

    select * from {{ ref('stg_helpscout__satisfaction_ratings') }}

),

removals as (

    select * from {{ ref('int_helpscout__conversation_removals') }}

),

final as (

    select
        ratings.rating_id,
        ratings.conversation_id,
        ratings.thread_id,
        ratings.user_id,
        ratings.customer_id,
        ratings.rating,
        ratings.created_at
    from ratings
    left join removals
        on ratings.conversation_id = removals.conversation_id
    where removals.removal_reason is distinct from 'deleted'

)

select * from final
