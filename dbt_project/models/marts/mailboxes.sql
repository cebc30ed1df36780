{#- The mailboxes the account has now (its most recent mailboxes listing). -#}
with

mailboxes as (

    select * from {{ ref('stg_helpscout__mailboxes') }}

),

final as (

    select
        mailbox_id,
        mailbox_name,
        mailbox_slug,
        {{ personal_value('mailbox_email', is_email=true) }} as mailbox_email,
        created_at,
        updated_at
    from mailboxes
    where {{ in_latest_listing(ref('stg_helpscout__mailboxes')) }}

)

select * from final
