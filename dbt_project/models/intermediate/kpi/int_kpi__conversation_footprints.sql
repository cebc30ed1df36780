{#- What each conversation contributes to the per-mailbox, per-day KPI rows, as
    versions: the previous copy of a changed conversation is what tells which
    periods it used to count in (its old mailbox after a move, its old closing
    day after a reopening, every day of a conversation now deleted or merged).

    One row per conversation and version: its current mailbox (null when the
    KPI filter leaves it out: spam, deleted, merged, internal...), the local days
    holding a figure of it (created, closed, first response, replies, ratings,
    status changes), the days it was open and pending at the day's end (as
    datemultiranges; a current open interval is unbounded), and a digest of
    everything the KPI marts read of it (its tag ids too). Append-only: an incremental run adds a
    version for each conversation whose row in `conversations` was rebuilt
    since this model's high-water mark (less the lookback), or whose ratings
    changed; int_kpi__affected_periods compares versions. Grows with the
    changes, as the lake does.

    A settings change (kpi_settings_fingerprint) makes a run re-version every
    conversation. The lake_loaded_at index serves the high-water mark
    (incremental_lake_cutoff), which otherwise scans every version. -#}
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        indexes=[
            {'columns': ['conversation_id', 'recorded_at']},
            {'columns': ['recorded_at']},
            {'columns': ['lake_loaded_at']},
        ],
    )
}}

{%- set fingerprint = kpi_settings_fingerprint() -%}
{%- set every_conversation = true -%}
{%- if execute is sameas true and is_incremental() -%}
    {%- set held = run_query(
        "select settings_fingerprint = " ~ fingerprint ~ " from " ~ this
        ~ " order by recorded_at desc limit 1"
    ).columns[0].values() -%}
    {%- set every_conversation = held | length == 0 or not held[0] -%}
{%- endif %}

with

-- not materialized: read twice, it would be copied whole (1M rows, 450 MB at
-- the bench's scale) before the lake_loaded_at index could pick the changes
conversations as not materialized (

    select * from {{ ref('conversations') }}

),

kpi_conversations as (

    select * from {{ ref('int_kpi__conversations') }}

),

kpi_replies as (

    select * from {{ ref('int_kpi__replies') }}

),

kpi_ratings as (

    select * from {{ ref('int_kpi__ratings') }}

),

kpi_tags as (

    select * from {{ ref('conversation_tags') }}

),

kpi_intervals as (

    select * from {{ ref('int_kpi__status_intervals') }}

),

{%- if is_incremental() %}

    changed_conversations as (

        select conversations.conversation_id
        from conversations
        {%- if not every_conversation %}
            where conversations.lake_loaded_at > {{ incremental_lake_cutoff() }}
            -- ratings load as their own stream, without a new conversation copy
            union
            select kpi_ratings.conversation_id from kpi_ratings
            union
            select held.conversation_id from {{ this }} as held
            where held.ratings_digest is not null
        {%- endif %}

    ),

    latest_held as (

        select distinct on (held.conversation_id)
            held.conversation_id,
            held.lake_loaded_at,
            held.footprint_digest
        from {{ this }} as held
        where held.conversation_id in (select changed_conversations.conversation_id from changed_conversations)
        order by held.conversation_id asc, held.recorded_at desc

    ),
{%- endif %}

scoped as (

    select
        conversation_id,
        lake_loaded_at
    from conversations
    {{ only_changed_conversations('conversation_id') }}

),

reply_days as (

    select
        conversation_id,
        array_agg(distinct created_at_local::date) as local_days,
        md5(string_agg(
            concat_ws(':', thread_id, user_id, created_at), ',' order by thread_id
        )) as replies_digest
    from kpi_replies
    {{ only_changed_conversations('conversation_id') }}
    group by conversation_id

),

rating_days as (

    select
        conversation_id,
        array_agg(distinct created_at_local::date) as local_days,
        md5(string_agg(
            concat_ws(':', rating_id, rating, created_at), ',' order by rating_id
        )) as ratings_digest
    from kpi_ratings
    {{ only_changed_conversations('conversation_id') }}
    group by conversation_id

),

-- An interval is open at the end of the local days from the one holding
-- valid_from up to, not including, the one holding valid_to (see
-- int_kpi__status_intervals): exactly daterange(from day, to day).
interval_days as (

    select
        conversation_id,
        array_agg(distinct valid_from_local::date) as local_days,
        range_agg(daterange(valid_from_local::date, valid_to_local::date)) filter (where is_open)
            as open_days,
        range_agg(daterange(valid_from_local::date, valid_to_local::date))
        filter (where status = 'pending') as pending_days,
        md5(string_agg(
            concat_ws(':', interval_number, status, is_reopening, valid_from, valid_to),
            ',' order by interval_number
        )) as intervals_digest
    from kpi_intervals
    {{ only_changed_conversations('conversation_id') }}
    group by conversation_id

),

-- tag_weekly counts a conversation under each of its tags: a tag added or
-- removed is a change of the conversation (its tags' names are not: tag_weekly
-- compares them itself)
tag_sets as (

    select
        conversation_id,
        md5(string_agg(tag_id::text, ',' order by tag_id)) as tags_digest
    from kpi_tags
    {{ only_changed_conversations('conversation_id') }}
    group by conversation_id

),

footprints as (

    select
        scoped.conversation_id,
        kpi_conversations.mailbox_id,
        array(
            select distinct point_days.day
            from
                unnest(
                    array[
                        kpi_conversations.created_at_local::date,
                        case when kpi_conversations.is_closed then kpi_conversations.closed_at_local::date end,
                        kpi_conversations.first_response_at_local::date
                    ]
                    || coalesce(reply_days.local_days, '{}')
                    || coalesce(rating_days.local_days, '{}')
                    || coalesce(interval_days.local_days, '{}')
                ) as point_days (day)
            where kpi_conversations.conversation_id is not null and point_days.day is not null
            order by point_days.day
        ) as point_days,
        case
            when kpi_conversations.conversation_id is not null
                then coalesce(interval_days.open_days, '{}'::datemultirange)
            else '{}'::datemultirange
        end as open_days,
        case
            when kpi_conversations.conversation_id is not null
                then coalesce(interval_days.pending_days, '{}'::datemultirange)
            else '{}'::datemultirange
        end as pending_days,
        md5(concat_ws(
            '|', kpi_conversations::text, reply_days.replies_digest, rating_days.ratings_digest,
            interval_days.intervals_digest, tag_sets.tags_digest
        )) as footprint_digest,
        rating_days.ratings_digest,
        scoped.lake_loaded_at,
        {{ fingerprint }}::text as settings_fingerprint,
        now() as recorded_at
    from scoped
    left join kpi_conversations
        on scoped.conversation_id = kpi_conversations.conversation_id
    left join reply_days
        on scoped.conversation_id = reply_days.conversation_id
    left join rating_days
        on scoped.conversation_id = rating_days.conversation_id
    left join interval_days
        on scoped.conversation_id = interval_days.conversation_id
    left join tag_sets
        on scoped.conversation_id = tag_sets.conversation_id

),

final as (

    select footprints.*
    from footprints
    {%- if is_incremental() %}
        -- a copy read again by the lookback, or an unchanged rating, adds nothing
        where
            not exists (
                select 1
                from latest_held
                where
                    latest_held.conversation_id = footprints.conversation_id
                    and latest_held.footprint_digest = footprints.footprint_digest
                    and latest_held.lake_loaded_at is not distinct from footprints.lake_loaded_at
            )
            {%- if every_conversation %}
                or true
            {%- endif %}
    {%- endif %}

)

select * from final
