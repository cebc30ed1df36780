{#- Who is in which team now: one row per (team, user) of the latest members
    listing, for the teams the teams mart lists. A user who left a team is
    absent; the names are the user's as that listing returned them, and follow the
    `personal_data` var like the users mart's. -#}
with

team_members as (

    select * from {{ ref('stg_helpscout__team_members') }}

),

teams as (

    select team_id from {{ ref('teams') }}

),

final as (

    select
        team_members.team_id,
        team_members.user_id,
        {{ personal_value('team_members.first_name') }} as first_name,
        {{ personal_value('team_members.last_name') }} as last_name,
        {{ personal_value('team_members.email', is_email=true) }} as email
    from team_members
    inner join teams
        on team_members.team_id = teams.team_id

)

select * from final
