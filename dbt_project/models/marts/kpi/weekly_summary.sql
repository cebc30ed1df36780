{#- One row per ISO week (reporting zone) for the whole account: the weekly
    status line. Additive figures are the sums of mailbox_weekly, so the two
    always agree; medians are taken over the account's conversations.

    Incremental by affected period (replace_by_key on week_start): the sums of
    mailbox_weekly (a small table) and their running total are taken over every
    week, and a week is redone when they differ from its held row (a received
    count that moved shifts every later total) or when kpi_redo_keys names it
    (the weeks any affected (mailbox, day) key touches, new, lost and not yet
    complete weeks); the weekday counts and medians read only those weeks. -#}
{{
    config(
        materialized='incremental',
        unique_key=['week_start'],
        present_column='period_end_at',
        indexes=[{'columns': ['week_start'], 'unique': true}],
        pre_hook="{{ kpi_prefer_index_reads('week', key_column=none) }}",
        post_hook=['{{ kpi_record_build_mark() }}'],
    )
}}
-- the mark and the affected periods (kpi_redo_keys, kpi_record_build_mark)
-- depends_on: {{ ref('int_kpi__conversation_footprints') }}
-- depends_on: {{ ref('int_kpi__affected_periods') }}

with

mailbox_weekly as (

    select * from {{ ref('mailbox_weekly') }}

),

-- not materialized: each aggregate reaches its redo weeks through the input's
-- indexes (kpi_prefer_index_reads) instead of scanning one unindexed copy
kpi_conversations as not materialized (

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

account_totals as (

    select
        account_weeks.*,
        sum(account_weeks.conversations_received) over (
            order by account_weeks.week_start
            rows between unbounded preceding and current row
        ) as conversations_total
    from account_weeks

),

{% if is_incremental() -%}
    -- the periods kpi_redo_keys compares with the held ones
    spine as (

        select account_weeks.week_start as period_start
        from account_weeks

    ),

    redo_keys as (

        {{ kpi_redo_keys('week', 'week_start', key_column=none) }}
        union
        select account_totals.week_start
        from account_totals
        inner join {{ this }} as held
            on account_totals.week_start = held.week_start
        where
            (
                account_totals.period_end_at, account_totals.conversations_total,
                account_totals.conversations_received, account_totals.conversations_closed,
                account_totals.conversations_open_at_period_end, account_totals.replies_sent,
                account_totals.is_complete
            ) is distinct from (
                held.period_end_at, held.conversations_total, held.conversations_received,
                held.conversations_closed, held.conversations_open_at_period_end, held.replies_sent,
                held.is_complete
            )

    ),
{% endif %}

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
    where {{ kpi_in_redo_keys(none, 'week', 'created_at_local') }}
    group by week_start

),

closed as (

    select
        date_trunc('week', closed_at_local)::date as week_start,
        {{ kpi_percentile('resolution_minutes', 0.5) }} as resolution_minutes_median
    from kpi_conversations
    where is_closed and {{ kpi_in_redo_keys(none, 'week', 'closed_at_local') }}
    group by week_start

),

first_responses as (

    select
        date_trunc('week', first_response_at_local)::date as week_start,
        {{ kpi_percentile('first_response_minutes', 0.5) }} as first_response_minutes_median
    from kpi_conversations
    where first_response_at is not null and {{ kpi_in_redo_keys(none, 'week', 'first_response_at_local') }}
    group by week_start

),

summary as (

    select
        account_totals.week_start,
        account_totals.period_end_at,
        {{ kpi_timezone_literal() }}::text as reporting_timezone,
        account_totals.conversations_total,
        account_totals.conversations_received,
        round(account_totals.conversations_received / 7.0, 2) as conversations_received_per_day,
        coalesce(received_by_weekday.received_monday, 0) as received_monday,
        coalesce(received_by_weekday.received_tuesday, 0) as received_tuesday,
        coalesce(received_by_weekday.received_wednesday, 0) as received_wednesday,
        coalesce(received_by_weekday.received_thursday, 0) as received_thursday,
        coalesce(received_by_weekday.received_friday, 0) as received_friday,
        coalesce(received_by_weekday.received_saturday, 0) as received_saturday,
        coalesce(received_by_weekday.received_sunday, 0) as received_sunday,
        account_totals.conversations_closed,
        account_totals.conversations_open_at_period_end,
        account_totals.replies_sent,
        first_responses.first_response_minutes_median,
        closed.resolution_minutes_median,
        account_totals.is_complete

    from account_totals
    left join received_by_weekday
        on account_totals.week_start = received_by_weekday.week_start
    left join closed
        on account_totals.week_start = closed.week_start
    left join first_responses
        on account_totals.week_start = first_responses.week_start
    {%- if is_incremental() %}
        where account_totals.week_start in (select redo_keys.period_start from redo_keys)
    {%- endif %}

),

final as (

    {{ kpi_redo_rows('summary', 'week_start', key_column=none) }}

)

select * from final
