{#- One business calendar per schedule and holiday set in use: the account's
    (mailbox_id null: the business_hours var and the holidays without a
    mailbox_id), one per mailbox with its own schedule (mailbox_business_hours)
    and one per mailbox with holidays of its own, which otherwise keeps the
    account's schedule. A conversation counts business time on its current
    mailbox's calendar, else on the account's. -#}

{%- set schedules = business_hours_schedules() %}

with

holidays as (

    select
        seeded.date,
        seeded.name,
        seeded.mailbox_id
    from {{ business_hours_holidays() }} as seeded

),

configured as (

    {%- for schedule in schedules %}
        {%- if not loop.first %}

            union all

        {%- endif %}
        select
            {{ business_hours_literal(schedule.schedule_id) }} as schedule_id,
            {{ schedule.mailbox_id if schedule.mailbox_id is not none else 'null' }}::bigint as mailbox_id,
            {{ business_hours_literal(schedule.timezone) }} as time_zone
    {%- endfor %}

),

holiday_only_mailboxes as (

    select distinct
        account_schedule.schedule_id,
        holidays.mailbox_id::bigint as mailbox_id,
        account_schedule.time_zone
    from holidays
    cross join configured as account_schedule
    where
        account_schedule.mailbox_id is null
        and holidays.mailbox_id is not null
        and holidays.mailbox_id::bigint not in (
            select configured.mailbox_id
            from configured
            where configured.mailbox_id is not null
        )

),

final as (

    select
        coalesce('mailbox ' || calendars.mailbox_id::text, 'account') as calendar_id,
        calendars.mailbox_id,
        calendars.schedule_id,
        calendars.time_zone
    from (
        select * from configured
        union all
        select * from holiday_only_mailboxes
    ) as calendars

)

select * from final
