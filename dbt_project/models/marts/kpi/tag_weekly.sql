{#- Per tag and ISO week (reporting zone): what came in, closed and got its
    first response among the KPI conversations carrying the tag, and the tag's
    share of the account's received conversations.

    Incremental by affected period (replace_by_key on tag and week): the
    footprints do not name tags, but a tag added or removed changes a
    conversation's footprint digest, so a run redoes every tag's row in each
    week any affected (mailbox, day) key touches (the account's received count
    of that week moves too), plus the spine's new keys, lost keys, keys not
    complete yet and the keys whose tag name changed (a rename touches no
    conversation's copy); see kpi_redo_keys. The spine (each tag's first week)
    is read in full. -#}
{{
    config(
        materialized='incremental',
        unique_key=['tag_id', 'week_start'],
        present_column='period_end_at',
        indexes=[{'columns': ['tag_id', 'week_start'], 'unique': true}],
        post_hook=['{{ kpi_record_build_mark() }}'],
    )
}}
-- the mark and the affected periods (kpi_redo_keys, kpi_record_build_mark)
-- depends_on: {{ ref('int_kpi__conversation_footprints') }}
-- depends_on: {{ ref('int_kpi__affected_periods') }}

with

kpi_conversations as (

    select * from {{ ref('int_kpi__conversations') }}

),

conversation_tags as (

    select * from {{ ref('conversation_tags') }}

),

tags as (

    select * from {{ ref('tags') }}

),

weeks as (

    {{ kpi_account_spine('week') }}

),

tagged as (

    select
        conversation_tags.tag_id,
        conversation_tags.tag_name,
        kpi_conversations.resolution_minutes,
        kpi_conversations.first_response_minutes,
        date_trunc('week', kpi_conversations.created_at_local)::date as created_week,
        date_trunc('week', kpi_conversations.closed_at_local)::date as closed_week,
        date_trunc('week', kpi_conversations.first_response_at_local)::date as first_response_week
    from conversation_tags
    inner join kpi_conversations
        on conversation_tags.conversation_id = kpi_conversations.conversation_id

),

tag_bounds as (

    select
        tag_id,
        min(tag_name) as bridge_tag_name,
        min(least(created_week, closed_week, first_response_week)) as first_week
    from tagged
    group by tag_id

),

spine as (

    select
        tag_bounds.tag_id,
        coalesce(tags.tag_name, tag_bounds.bridge_tag_name) as tag_name,
        weeks.period_start
    from tag_bounds
    inner join weeks
        on tag_bounds.first_week <= weeks.period_start
    left join tags
        on tag_bounds.tag_id = tags.tag_id

),

{% if is_incremental() -%}
    redo_keys as (

        {{ kpi_redo_keys('week', 'week_start', key_column='tag_id') }}
        union
        select
            spine.tag_id,
            spine.period_start
        from spine
        inner join {{ this }} as held
            on spine.tag_id = held.tag_id and spine.period_start = held.week_start
        where spine.tag_name is distinct from held.tag_name

    ),
{% endif %}

received as (

    select
        tag_id,
        created_week as week_start,
        count(*) as conversations_received
    from tagged
    where {{ kpi_in_redo_keys('tag_id', 'week', 'created_week') }}
    group by tag_id, created_week

),

closed as (

    select
        tag_id,
        closed_week as week_start,
        count(*) as conversations_closed,
        {{ kpi_percentile('resolution_minutes', 0.5) }} as resolution_minutes_median
    from tagged
    where closed_week is not null and {{ kpi_in_redo_keys('tag_id', 'week', 'closed_week') }}
    group by tag_id, closed_week

),

first_responses as (

    select
        tag_id,
        first_response_week as week_start,
        count(*) as conversations_first_responded,
        {{ kpi_percentile('first_response_minutes', 0.5) }} as first_response_minutes_median
    from tagged
    where first_response_week is not null and {{ kpi_in_redo_keys('tag_id', 'week', 'first_response_week') }}
    group by tag_id, first_response_week

),

account_received as (

    select
        date_trunc('week', created_at_local)::date as week_start,
        count(*) as conversations_received
    from kpi_conversations
    where {{ kpi_in_redo_keys(none, 'week', 'created_at_local') }}
    group by week_start

),

watermark as (

    select * from {{ ref('int_helpscout__data_watermark') }}

),

tag_weeks as (

    select
        spine.tag_id,
        spine.period_start as week_start,
        spine.tag_name,
        {{ kpi_period_end('spine.period_start', '1 week') }} as period_end_at,
        coalesce(received.conversations_received, 0) as conversations_received,
        coalesce(closed.conversations_closed, 0) as conversations_closed,
        closed.resolution_minutes_median,
        coalesce(first_responses.conversations_first_responded, 0) as conversations_first_responded,
        first_responses.first_response_minutes_median,
        coalesce(account_received.conversations_received, 0) as account_conversations_received,
        round(
            coalesce(received.conversations_received, 0)::numeric
            / nullif(account_received.conversations_received, 0),
            4
        ) as share_of_received,
        {{ kpi_is_complete(kpi_period_end('spine.period_start', '1 week')) }} as is_complete

    from spine
    cross join watermark
    left join received
        on spine.tag_id = received.tag_id and spine.period_start = received.week_start
    left join closed
        on spine.tag_id = closed.tag_id and spine.period_start = closed.week_start
    left join first_responses
        on spine.tag_id = first_responses.tag_id and spine.period_start = first_responses.week_start
    left join account_received
        on spine.period_start = account_received.week_start
    {%- if is_incremental() %}
        where (spine.tag_id, spine.period_start) in (
            select
                redo_keys.tag_id,
                redo_keys.period_start
            from redo_keys
        )
    {%- endif %}

),

{%- if is_incremental() %}

    redo_rows as (

        select
            redo_keys.tag_id,
            redo_keys.period_start as week_start
        from redo_keys

    ),

    final as (

        {{ replace_by_key_rows('tag_weeks', 'redo_rows', 'tag_id, week_start') }}

    )
{%- else %}

    final as (

        select * from tag_weeks

    )
{%- endif %}

select * from final
