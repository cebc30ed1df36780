{#- The tags the account has now: those in the most recent tags listing. Both
    the tag bridge (for current names) and the tags mart read this. -#}
with

tags as (

    select * from {{ ref('stg_helpscout__tags') }}

),

final as (

    select
        tag_id,
        tag_name,
        tag_slug,
        tag_color,
        created_at,
        updated_at,
        ticket_count
    from tags
    where {{ in_latest_listing(ref('stg_helpscout__tags')) }}

)

select * from final
