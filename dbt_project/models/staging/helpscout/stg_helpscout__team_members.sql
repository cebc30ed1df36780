{#- Each team's members as the latest completed team_members listing returned
    them (GET /v2/teams/{id}/members, users): one row per (team, user). A whole
    snapshot, so a table rebuilt every run (it is small) rather than an
    incremental one: a member who left is simply absent from the snapshot. -#}
{{
    config(
        materialized='table',
        indexes=[{'columns': ['team_id', 'user_id'], 'unique': true}],
    )
}}

with

members as (

    select distinct on (team_id, entity_id)
        team_id,
        entity_id as user_id,
        payload ->> 'firstName' as first_name,
        payload ->> 'lastName' as last_name,
        payload ->> 'email' as email,
        run_id,
        extracted_at,
        lake_id,
        loaded_at as lake_loaded_at
    from {{ source('helpscout_raw', 'team_members') }}
    where
        run_id = {{ latest_unit_run('team_members') }}
        and team_id is not null
    order by team_id asc, entity_id asc, extracted_at desc, lake_id desc

),

final as (

    select * from members

)

select * from final
