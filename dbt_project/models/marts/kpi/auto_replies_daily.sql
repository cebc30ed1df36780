{#- Conversations received per day (reporting zone) whose subject marks them as
    automatic replies (out of office and similar; `auto_reply_subject_patterns`).

    Incremental by affected period (replace_by_key on date_day): a run redoes
    the days any affected (mailbox, day) key of int_kpi__affected_periods
    touches, plus the spine's new days, lost days and days not complete yet
    (kpi_redo_keys); every aggregate reads only those days. -#}
{{
    config(
        materialized='incremental',
        unique_key=['date_day'],
        present_column='is_complete',
        indexes=[{'columns': ['date_day'], 'unique': true}],
        pre_hook="{{ kpi_prefer_index_reads('day', key_column=none) }}",
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

spine as (

    {{ kpi_account_spine('day') }}

),

{% if is_incremental() -%}
    redo_keys as (

        {{ kpi_redo_keys('day', 'date_day', key_column=none) }}

    ),
{% endif %}

received as (

    select
        date_trunc('day', created_at_local)::date as date_day,
        count(*) as conversations_received,
        count(*) filter (where {{ kpi_is_auto_reply('subject') }}) as auto_reply_conversations
    from kpi_conversations
    where {{ kpi_in_redo_keys(none, 'day', 'created_at_local') }}
    group by date_day

),

watermark as (

    select * from {{ ref('int_helpscout__data_watermark') }}

),

days as (

    select
        spine.period_start as date_day,
        coalesce(received.auto_reply_conversations, 0) as auto_reply_conversations,
        coalesce(received.conversations_received, 0) as conversations_received,
        round(
            coalesce(received.auto_reply_conversations, 0)::numeric
            / nullif(received.conversations_received, 0),
            4
        ) as auto_reply_share,
        {{ kpi_is_complete(kpi_period_end('spine.period_start', '1 day')) }} as is_complete

    from spine
    cross join watermark
    left join received
        on spine.period_start = received.date_day
    {%- if is_incremental() %}
        where spine.period_start in (select redo_keys.period_start from redo_keys)
    {%- endif %}

),

final as (

    {{ kpi_redo_rows('days', 'date_day', key_column=none) }}

)

select * from final
