{#- Normalized subjects that arrive at least `subject_wave_min_conversations`
    times in one month (reporting zone, by creation): replies to a mass mailing.

    Incremental by affected month (replace_by_key on month_start): a
    conversation's subject, mailbox, creation and KPI membership are all in its
    footprint digest, and its creation day is one of its point days, so a
    month no affected point day falls in keeps its waves. With a usable mark
    (kpi_redo_mark) a run redoes only the months of the affected point days,
    reading only the conversations created in them; without one, every month
    held or seen. The month is kpi_period_key's, as the other KPI marts'. -#}
{{
    config(
        materialized='incremental',
        unique_key='month_start',
        present_column='subject_normalized',
        indexes=[{'columns': ['month_start', 'subject_normalized'], 'unique': true}],
        post_hook=['{{ kpi_record_build_mark() }}'],
    )
}}
-- the mark and the affected periods (kpi_redo_mark, kpi_record_build_mark)
-- depends_on: {{ ref('int_kpi__conversation_footprints') }}
-- depends_on: {{ ref('int_kpi__affected_periods') }}
{%- set redo_mark = kpi_redo_mark() %}

with

kpi_conversations as (

    select * from {{ ref('int_kpi__conversations') }}

),

{% if is_incremental() -%}
    redo_keys as (

        {%- if redo_mark is not none %}
            select distinct {{ kpi_period_key('month', 'affected.date_day') }} as period_start
            from {{ ref('int_kpi__affected_periods') }} as affected
            where affected.marked_through = {{ redo_mark }} and affected.is_point_day
        {%- else %}
            select held.month_start as period_start from {{ this }} as held
            union
            select {{ kpi_period_key('month', 'kpi_conversations.created_at_local') }} from kpi_conversations
        {%- endif %}

    ),
{%- endif %}

by_month as (

    select
        {{ kpi_period_key('month', 'created_at_local') }} as month_start,
        subject_normalized,
        count(*) as conversations_received,
        count(distinct mailbox_id) as mailbox_count,
        min(created_at) as first_arrival_at,
        max(created_at) as last_arrival_at
    from kpi_conversations
    where subject_normalized is not null and {{ kpi_in_redo_keys(none, 'month', 'created_at_local') }}
    group by month_start, subject_normalized

),

waves as (

    select
        month_start,
        subject_normalized,
        conversations_received,
        mailbox_count,
        first_arrival_at,
        last_arrival_at,
        extract(epoch from last_arrival_at - first_arrival_at) / 60 as wave_span_minutes
    from by_month
    where conversations_received >= {{ var('subject_wave_min_conversations') | int }}

),

final as (

    {{ kpi_redo_rows('waves', 'month_start', key_column=none) }}

)

select * from final
