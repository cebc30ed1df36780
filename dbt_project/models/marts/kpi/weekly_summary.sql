{#- One row per ISO week (reporting zone) for the whole account: the weekly
    status line. Additive figures are the sums of mailbox_weekly, so the two
    always agree; medians are taken over the account's conversations. -#}
{{ config(indexes=[{'columns': ['week_start'], 'unique': true}]) }}

with

mailbox_weekly as (

    select * from {{ ref('mailbox_weekly') }}

),

kpi_conversations as (

    select * from {{ ref('int_kpi__conversations') }}

),

account_weeks as (

    select
        week_start,
        min(period_end_at) as period_end_at,
        sum(conversations_received) as conversations_received,
        sum(conversations_closed) as conversations_closed,
        sum(conversations_open_at_period_end) as conversations_open_at_period_end,
        sum(replies_sent) as replies_sent,
        bool_and(is_complete) as is_complete
    from mailbox_weekly
    group by week_start

),

received_by_weekday as (

    select
        date_trunc('week', created_at_local)::date as week_start,
        count(*) filter (where extract(isodow from created_at_local) = 1) as received_monday,
        count(*) filter (where extract(isodow from created_at_local) = 2) as received_tuesday,
        count(*) filter (where extract(isodow from created_at_local) = 3) as received_wednesday,
        count(*) filter (where extract(isodow from created_at_local) = 4) as received_thursday,
        count(*) filter (where extract(isodow from created_at_local) = 5) as received_friday,
        count(*) filter (where extract(isodow from created_at_local) = 6) as received_saturday,
        count(*) filter (where extract(isodow from created_at_local) = 7) as received_sunday
    from kpi_conversations
    group by week_start

),

closed as (

    select
        date_trunc('week', closed_at_local)::date as week_start,
        {{ kpi_percentile('resolution_minutes', 0.5) }} as resolution_minutes_median
    from kpi_conversations
    where is_closed
    group by week_start

),

first_responses as (

    select
        date_trunc('week', first_response_at_local)::date as week_start,
        {{ kpi_percentile('first_response_minutes', 0.5) }} as first_response_minutes_median
    from kpi_conversations
    where first_response_at is not null
    group by week_start

),

final as (

    select
        account_weeks.week_start,
        account_weeks.period_end_at,
        {{ kpi_timezone_literal() }}::text as reporting_timezone,
        sum(account_weeks.conversations_received) over (
            order by account_weeks.week_start
            rows between unbounded preceding and current row
        ) as conversations_total,
        account_weeks.conversations_received,
        round(account_weeks.conversations_received / 7.0, 2) as conversations_received_per_day,
        coalesce(received_by_weekday.received_monday, 0) as received_monday,
        coalesce(received_by_weekday.received_tuesday, 0) as received_tuesday,
        coalesce(received_by_weekday.received_wednesday, 0) as received_wednesday,
        coalesce(received_by_weekday.received_thursday, 0) as received_thursday,
        coalesce(received_by_weekday.received_friday, 0) as received_friday,
        coalesce(received_by_weekday.received_saturday, 0) as received_saturday,
        coalesce(received_by_weekday.received_sunday, 0) as received_sunday,
        account_weeks.conversations_closed,
        account_weeks.conversations_open_at_period_end,
        account_weeks.replies_sent,
        first_responses.first_response_minutes_median,
        closed.resolution_minutes_median,
        account_weeks.is_complete

    from account_weeks
    left join received_by_weekday
        on account_weeks.week_start = received_by_weekday.week_start
    left join closed
        on account_weeks.week_start = closed.week_start
    left join first_responses
        on account_weeks.week_start = first_responses.week_start

)

select * from final
