{#- The users the account lists now (its most recent users listing: active
    users; Help Scout does not list deactivated users, its automatic closer or
    AI system users, which can still appear in conversations and threads). -#}
with

users as (

    select * from {{ ref('stg_helpscout__users') }}

),

final as (

    select
        user_id,
        {{ personal_value('first_name') }} as first_name,
        {{ personal_value('last_name') }} as last_name,
        {{ personal_value('email', is_email=true) }} as email,
        role,
        user_type,
        timezone,
        created_at,
        updated_at
    from users
    where {{ in_latest_listing(ref('stg_helpscout__users')) }}

)

select * from final
