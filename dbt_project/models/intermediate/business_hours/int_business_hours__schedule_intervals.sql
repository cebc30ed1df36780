{#- The weekly opening intervals of every schedule in the business_hours and
    mailbox_business_hours vars (checked by business_hours_schedules, which
    stops dbt with a clear message on a bad schedule), one row per interval. -#}

{%- set schedules = business_hours_schedules() %}

with

configured as (

    select
        null::text as schedule_id,
        null::integer as iso_day_of_week,
        null::integer as opens_minute,
        null::integer as closes_minute
    where false
    {%- for schedule in schedules %}
        {%- for interval in schedule.intervals %}
            union all
            select
                {{ business_hours_literal(schedule.schedule_id) }} as schedule_id,
                {{ interval.weekday }} as iso_day_of_week,
                {{ interval.opens }} as opens_minute,
                {{ interval.closes }} as closes_minute
        {%- endfor %}
    {%- endfor %}

),

final as (

    select
        schedule_id,
        iso_day_of_week,
        make_interval(mins => opens_minute) as opens_after_midnight,
        make_interval(mins => closes_minute) as closes_after_midnight
    from configured

)

select * from final
