{#- Every user the account shows (int_helpscout__users), with names and emails as
    the personal_data setting asks. -#}
with

users as (

    select * from {{ ref('int_helpscout__users') }}

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
        updated_at,
        is_listed
    from users

)

select * from final
