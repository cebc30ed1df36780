{#- One row per customer the lake holds, in their latest known state, with how
    many conversations the account still has with them as primary customer
    (deleted and merged-away conversations do not count). Names and emails are
    personal data: kept, hashed or dropped as the `personal_data` var says, and
    `hs-ops erase` clears them in the lake (the rebuild carries that here). -#}
with

customers as (

    select * from {{ ref('stg_helpscout__customers') }}

),

conversations as (

    select * from {{ ref('conversations') }}

),

conversation_counts as (

    select
        primary_customer_id as customer_id,
        count(*) as conversation_count
    from conversations
    where
        removal_reason is null
        and primary_customer_id is not null
    group by primary_customer_id

),

final as (

    select
        customers.customer_id,
        {{ personal_value('customers.first_name') }} as first_name,
        {{ personal_value('customers.last_name') }} as last_name,
        customers.organization,
        {{ personal_value('customers.primary_email', is_email=true) }} as primary_email,
        customers.created_at,
        customers.updated_at,
        coalesce(conversation_counts.conversation_count, 0) as conversation_count
    from customers
    left join conversation_counts
        on customers.customer_id = conversation_counts.customer_id

)

select * from final
