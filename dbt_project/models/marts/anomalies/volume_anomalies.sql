{#- One row per mailbox and day whose volume is out of the ordinary (contract,
    `volume_anomalies`): conversations received compared with the same weekday
    of the previous `anomaly_baseline_weeks` weeks, read from `mailbox_daily`.

    Incremental: a day's row depends only on its own count and its baseline
    days' counts, and those change only when a conversation created on one of
    those days is (re)loaded. A run therefore redoes every day from the
    earliest creation day among the conversations loaded since this model's
    high-water mark (`conversations_loaded_at`, less the lookback), and every
    day it holds as not yet complete (the watermark may have passed them), for
    every mailbox: a mailbox move changes the counts of two mailboxes.
    Changing reporting_timezone, the KPI filter vars or the anomaly vars needs
    a --full-refresh of this model. -#}
{{
    config(
        materialized='incremental',
        unique_key='date_day',
        present_column='mailbox_id',
        indexes=[
            {'columns': ['mailbox_id', 'date_day'], 'unique': true},
            {'columns': ['date_day']},
        ],
    )
}}

{%- set baseline_weeks = var('anomaly_baseline_weeks') | int -%}
{%- set iqr_multiplier = var('anomaly_iqr_multiplier') | float -%}
{%- set min_delta = var('anomaly_min_delta') | float %}

with

mailbox_daily as (

    select * from {{ ref('mailbox_daily') }}

),

-- not materialized: read twice, it would be copied whole before the
-- lake_loaded_at index could serve either read (1M: 1.1 -> 0.14 s)
conversations as not materialized (

    select * from {{ ref('conversations') }}

),

{%- if is_incremental() %}

    redo_from as (

        select
            least(
                (
                    select min({{ kpi_local('conversations.created_at') }}::date)
                    from conversations
                    where conversations.lake_loaded_at > {{ incremental_lake_cutoff('conversations_loaded_at') }}
                ),
                (
                    select min(held.date_day)
                    from {{ this }} as held
                    where not held.is_complete
                )
            ) as first_day

    ),

    redo_days as (

        -- held days too: a day the spine no longer reaches must lose its rows
        select mailbox_daily.date_day
        from mailbox_daily
        where mailbox_daily.date_day >= (select redo_from.first_day from redo_from)
        union
        select held.date_day
        from {{ this }} as held
        where held.date_day >= (select redo_from.first_day from redo_from)

    ),
{%- endif %}

scored_days as (

    select
        mailbox_id,
        date_day,
        period_end_at,
        conversations_received
    from mailbox_daily
    {%- if is_incremental() %}
        where date_day in (select redo_days.date_day from redo_days)
    {%- endif %}

),

baseline_counts as (

    -- the same weekday 1..N weeks before; the spine has every day of a mailbox
    -- from its first activity, so N rows exist once the baseline is full
    select
        scored_days.mailbox_id,
        scored_days.date_day,
        past.conversations_received
    from scored_days
    cross join generate_series(1, {{ baseline_weeks }}) as weeks (weeks_back)
    inner join mailbox_daily as past
        on
            scored_days.mailbox_id = past.mailbox_id
            and past.date_day = scored_days.date_day - 7 * weeks.weeks_back

),

baselines as (

    select
        mailbox_id,
        date_day,
        {{ kpi_percentile('conversations_received', 0.25) }} as baseline_q25,
        {{ kpi_percentile('conversations_received', 0.5) }} as baseline_median,
        {{ kpi_percentile('conversations_received', 0.75) }} as baseline_q75
    from baseline_counts
    group by mailbox_id, date_day
    having count(*) = {{ baseline_weeks }}

),

bounded as (

    select
        scored_days.mailbox_id,
        scored_days.date_day,
        scored_days.period_end_at,
        scored_days.conversations_received,
        baselines.baseline_q25,
        baselines.baseline_median,
        baselines.baseline_q75,
        baselines.baseline_q25
        - {{ iqr_multiplier }} * (baselines.baseline_q75 - baselines.baseline_q25) as lower_bound,
        baselines.baseline_q75
        + {{ iqr_multiplier }} * (baselines.baseline_q75 - baselines.baseline_q25) as upper_bound
    from scored_days
    inner join baselines
        on scored_days.mailbox_id = baselines.mailbox_id and scored_days.date_day = baselines.date_day

),

anomalies as (

    select
        mailbox_id,
        date_day,
        period_end_at,
        conversations_received,
        baseline_q25,
        baseline_median,
        baseline_q75,
        lower_bound,
        upper_bound,
        case when conversations_received > upper_bound then 'spike' else 'drop' end as direction,
        round(100 * (conversations_received - baseline_median) / nullif(baseline_median, 0), 1)
            as deviation_percent,
        coalesce(period_end_at <= (
            select watermark.data_watermark_at
            from {{ ref('int_helpscout__data_watermark') }} as watermark
        ), false) as is_complete,
        (select max(conversations.lake_loaded_at) from conversations) as conversations_loaded_at
    from bounded
    where
        (conversations_received < lower_bound or conversations_received > upper_bound)
        and abs(conversations_received - baseline_median) >= {{ min_delta }}

),

final as (

    {{ replace_by_key_rows('anomalies', 'redo_days', 'date_day') }}

)

select * from final
