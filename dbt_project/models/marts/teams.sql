{#- The teams the account lists now (its most recent teams listing), with how
    many members each has in the latest members listing. -#}
with

teams as (

    select * from {{ ref('stg_helpscout__teams') }}

),

team_members as (

    select * from {{ ref('stg_helpscout__team_members') }}

),

member_counts as (

    select
        team_id,
        count(*) as member_count
    from team_members
    group by team_id

),

final as (

    select
        teams.team_id,
        teams.team_name,
        teams.timezone,
        teams.created_at,
        teams.updated_at,
        coalesce(member_counts.member_count, 0) as member_count
    from teams
    left join member_counts
        on teams.team_id = member_counts.team_id
    where {{ in_latest_listing(ref('stg_helpscout__teams')) }}

)

select * from final
