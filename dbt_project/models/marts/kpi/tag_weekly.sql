{#- Per tag and ISO week (reporting zone): what came in, closed and got its
    first response among the KPI conversations carrying the tag, and the tag's
    share of the account's received conversations.

    Incremental by affected period (replace_by_key on tag and week): the
    footprints do not name tags, but a tag added or removed changes a
    conversation's footprint digest, so a run redoes every tag's row in each
    week any affected (mailbox, day) key touches (the account's received count
    of that week moves too), plus the spine's new keys, lost keys, keys not
    complete yet and the keys whose tag name changed (a rename touches no
    conversation's copy); see kpi_redo_keys. With a usable mark only the
    tagged conversations with a figure in an affected week are read; a redo
    key of another week keeps its held figures (tag_weekly_figures).

    The spine starts each tag at its first week with a figure. With a usable
    mark that week comes from the held rows and the affected weeks alone: a
    held week no affected key touches still holds the right counts, so the
    first week is the earliest of the held weeks with a figure outside the
    affected weeks and of the weeks holding a figure of the tagged
    conversations that have one in an affected week (a week between the two
    holding a figure would have been the held first week, or be affected).
    Without a mark (or in a full build) it is read from every tagged
    conversation. -#}
{{
    config(
        materialized='incremental',
        unique_key=['tag_id', 'week_start'],
        present_column='period_end_at',
        indexes=[{'columns': ['tag_id', 'week_start'], 'unique': true}],
        pre_hook="{{ kpi_prefer_index_reads('week', key_column=none, held_period_column='week_start') }}",
        post_hook=['{{ kpi_record_build_mark() }}'],
    )
}}
-- the mark and the affected periods (kpi_redo_keys, kpi_record_build_mark)
-- depends_on: {{ ref('int_kpi__conversation_footprints') }}
-- depends_on: {{ ref('int_kpi__affected_periods') }}
{%- set redo_mark = kpi_redo_mark() %}

with

-- not materialized: each read reaches its weeks through the input's
-- kpi_period_indexes instead of scanning one unindexed copy
kpi_conversations as not materialized (

    select * from {{ ref('int_kpi__conversations') }}

),

conversation_tags as not materialized (

    select * from {{ ref('conversation_tags') }}

),

tags as (

    select * from {{ ref('tags') }}

),

weeks as (

    {{ kpi_account_spine('week') }}

),

{% if redo_mark is none -%}
    tagged as (

        {{ tag_weekly_tagged() }}

    ),

    tag_bounds as (

        select
            tag_id,
            min(tag_name) as bridge_tag_name,
            min(least(created_week, closed_week, first_response_week)) as first_week
        from tagged
        group by tag_id

    ),
{%- else -%}
    affected_weeks as (

        select distinct {{ kpi_period_key('week', 'affected.date_day') }} as week_start
        from {{ ref('int_kpi__affected_periods') }} as affected
        where affected.marked_through = {{ redo_mark }} and affected.is_point_day

    ),

    -- the tagged conversations with a figure in an affected week
    tagged as (

        {{ tag_weekly_tagged('affected_weeks', 'week_start') }}

    ),

    first_weeks as (

        select
            held.tag_id,
            held.week_start as first_week
        from {{ this }} as held
        where
            (held.conversations_received > 0 or held.conversations_closed > 0 or held.conversations_first_responded > 0)
            and held.week_start not in (select affected_weeks.week_start from affected_weeks)

        union all

        select
            tag_id,
            least(created_week, closed_week, first_response_week) as first_week
        from tagged

    ),

    -- the name of a tag the tags listing does not name, from its KPI conversations
    unnamed_tags as (

        select distinct first_weeks.tag_id
        from first_weeks
        where not exists (
            select 1
            from tags
            where tags.tag_id = first_weeks.tag_id and tags.tag_name is not null
        )

    ),

    bridge_names as (

        select
            conversation_tags.tag_id,
            min(conversation_tags.tag_name) as bridge_tag_name
        from unnamed_tags
        inner join conversation_tags
            on unnamed_tags.tag_id = conversation_tags.tag_id
        inner join kpi_conversations
            on conversation_tags.conversation_id = kpi_conversations.conversation_id
        group by conversation_tags.tag_id

    ),

    tag_bounds as (

        select
            first_weeks.tag_id,
            bridge_names.bridge_tag_name,
            min(first_weeks.first_week) as first_week
        from first_weeks
        left join bridge_names
            on first_weeks.tag_id = bridge_names.tag_id
        group by first_weeks.tag_id, bridge_names.bridge_tag_name

    ),
{%- endif %}

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

    {{ tag_weekly_figures(redo_mark, 'created_week', {
        'conversations_received': 'count(*)',
    }) }}

),

closed as (

    {{ tag_weekly_figures(redo_mark, 'closed_week', {
        'conversations_closed': 'count(*)',
        'resolution_minutes_median': kpi_percentile('resolution_minutes', 0.5),
    }) }}

),

first_responses as (

    {{ tag_weekly_figures(redo_mark, 'first_response_week', {
        'conversations_first_responded': 'count(*)',
        'first_response_minutes_median': kpi_percentile('first_response_minutes', 0.5),
    }) }}

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
    {{ kpi_spine_in_redo_keys('tag_id') }}

),

final as (

    {{ kpi_redo_rows('tag_weeks', 'week_start', key_column='tag_id') }}

)

select * from final
