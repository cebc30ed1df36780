{#- The body of mailbox_daily (grain 'day') and mailbox_weekly (grain 'week'):
    the same figures on two grains, written once. See docs/kpi.md for each column.

    Incremental by affected period (replace_by_key on mailbox and period): a run
    redoes the keys of kpi_redo_keys, and every aggregate reads only those keys,
    the open count included (kpi_open_counts). Without a usable mark, every
    period is redone. The inputs are not materialized: each aggregate then
    reaches its keys through the inputs' kpi_period_indexes. -#}
{% macro kpi_mailbox_period_model(grain, period_column) -%}

with

kpi_conversations as not materialized (

    select * from {{ ref('int_kpi__conversations') }}

),

kpi_replies as not materialized (

    select * from {{ ref('int_kpi__replies') }}

),

kpi_ratings as not materialized (

    select * from {{ ref('int_kpi__ratings') }}

),

spine as (

    {{ kpi_mailbox_spine(grain) }}

),

{% if is_incremental() -%}
    redo_keys as (

        {{ kpi_redo_keys(grain, period_column) }}

    ),
{% endif %}

received as (

    select
        mailbox_id,
        {{ kpi_period_key(grain, 'created_at_local') }} as period_start,
        count(*) as conversations_received
    from kpi_conversations
    where {{ kpi_in_redo_keys('mailbox_id', grain, 'created_at_local') }}
    group by mailbox_id, period_start

),

closed as (

    select
        mailbox_id,
        {{ kpi_period_key(grain, 'closed_at_local') }} as period_start,
        count(*) as conversations_closed,
        {{ kpi_percentile('resolution_minutes', 0.5) }} as resolution_minutes_median,
        {{ kpi_percentile('resolution_minutes', 0.9) }} as resolution_minutes_p90,
        avg(resolution_minutes) as resolution_minutes_mean,
        {{ kpi_percentile('resolution_business_minutes', 0.5) }} as resolution_business_minutes_median,
        {{ kpi_percentile('resolution_business_minutes', 0.9) }} as resolution_business_minutes_p90
    from kpi_conversations
    where is_closed and {{ kpi_in_redo_keys('mailbox_id', grain, 'closed_at_local') }}
    group by mailbox_id, period_start

),

first_responses as (

    select
        mailbox_id,
        {{ kpi_period_key(grain, 'first_response_at_local') }} as period_start,
        count(*) as conversations_first_responded,
        {{ kpi_percentile('first_response_minutes', 0.5) }} as first_response_minutes_median,
        {{ kpi_percentile('first_response_minutes', 0.9) }} as first_response_minutes_p90,
        {{ kpi_percentile('first_response_business_minutes', 0.5) }} as first_response_business_minutes_median,
        {{ kpi_percentile('first_response_business_minutes', 0.9) }} as first_response_business_minutes_p90,
        count(*) filter (where not is_first_response_sla_breached) as conversations_first_responded_within_sla
    from kpi_conversations
    where
        first_response_at is not null
        and {{ kpi_in_redo_keys('mailbox_id', grain, 'first_response_at_local') }}
    group by mailbox_id, period_start

),

replies as (

    select
        mailbox_id,
        {{ kpi_period_key(grain, 'created_at_local') }} as period_start,
        count(*) as replies_sent,
        count(distinct user_id) as users_replying
    from kpi_replies
    where {{ kpi_in_redo_keys('mailbox_id', grain, 'created_at_local') }}
    group by mailbox_id, period_start

),

ratings as (

    select
        mailbox_id,
        {{ kpi_period_key(grain, 'created_at_local') }} as period_start,
        count(*) as ratings_received,
        count(*) filter (where rating = 'great') as ratings_great
    from kpi_ratings
    where {{ kpi_in_redo_keys('mailbox_id', grain, 'created_at_local') }}
    group by mailbox_id, period_start

),

-- Open at period end: from conversation_status_history, so a conversation that
-- is closed now but has no closedAt is never counted open.
open_net as (

    {{ kpi_open_changes(grain) }}

),

open_counts as (

    {{ kpi_open_counts('open_net', 'conversations_open_at_period_end', period_column) }}

),

watermark as (

    select * from {{ ref('int_helpscout__data_watermark') }}

),

periods as (

    select
        spine.mailbox_id,
        spine.period_start as {{ period_column }},
        {{ kpi_period_end('spine.period_start', '1 ' ~ grain) }} as period_end_at,
        coalesce(received.conversations_received, 0) as conversations_received,
        coalesce(closed.conversations_closed, 0) as conversations_closed,
        coalesce(replies.replies_sent, 0) as replies_sent,
        coalesce(replies.users_replying, 0) as users_replying,
        round(
            coalesce(closed.conversations_closed, 0)::numeric / nullif(replies.users_replying, 0), 2
        ) as closed_per_replying_user,
        closed.resolution_minutes_median,
        closed.resolution_minutes_p90,
        closed.resolution_minutes_mean,
        closed.resolution_business_minutes_median,
        closed.resolution_business_minutes_p90,
        coalesce(first_responses.conversations_first_responded, 0) as conversations_first_responded,
        first_responses.first_response_minutes_median,
        first_responses.first_response_minutes_p90,
        first_responses.first_response_business_minutes_median,
        first_responses.first_response_business_minutes_p90,
        coalesce(first_responses.conversations_first_responded_within_sla, 0)
            as conversations_first_responded_within_sla,
        first_responses.conversations_first_responded_within_sla::numeric
        / nullif(first_responses.conversations_first_responded, 0) as first_response_within_sla_share,
        coalesce(open_counts.open_count, 0) as conversations_open_at_period_end,
        {{ kpi_is_complete(kpi_period_end('spine.period_start', '1 ' ~ grain)) }} as is_complete,
        coalesce(ratings.ratings_received, 0) as ratings_received,
        round(ratings.ratings_great::numeric / nullif(ratings.ratings_received, 0), 4)
            as share_rated_great

    from spine
    cross join watermark
    left join received
        on spine.mailbox_id = received.mailbox_id and spine.period_start = received.period_start
    left join closed
        on spine.mailbox_id = closed.mailbox_id and spine.period_start = closed.period_start
    left join first_responses
        on
            spine.mailbox_id = first_responses.mailbox_id
            and spine.period_start = first_responses.period_start
    left join replies
        on spine.mailbox_id = replies.mailbox_id and spine.period_start = replies.period_start
    left join open_counts
        on spine.mailbox_id = open_counts.mailbox_id and spine.period_start = open_counts.period_start
    left join ratings
        on spine.mailbox_id = ratings.mailbox_id and spine.period_start = ratings.period_start
    {{ kpi_spine_in_redo_keys() }}

),

final as (

    {{ kpi_redo_rows('periods', period_column) }}

)

select * from final

{%- endmacro %}
