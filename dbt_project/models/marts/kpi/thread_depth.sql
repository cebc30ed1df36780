{#- Conversations per mailbox, month of creation and thread-count band, with the
    median resolution of each cell: how long conversations run, and what long
    ones cost. Every band of every month from the mailbox's first activity to the
    account's latest is present (zero when quiet).

    Incremental by affected period (replace_by_key on mailbox and month, all
    bands of it): a conversation's thread count, closing, resolution and
    mailbox are in its footprint digest, and its creation day is one of its
    point days, so a run redoes the (mailbox, month) keys of kpi_redo_keys
    (affected, new to the spine, lost) and reads only the conversations
    created in them. No row follows the watermark, so none is redone for
    being incomplete. -#}
{{
    config(
        materialized='incremental',
        unique_key=['mailbox_id', 'month_start'],
        present_column='band_order',
        indexes=[{'columns': ['mailbox_id', 'month_start', 'thread_count_band'], 'unique': true}],
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

    {{ kpi_mailbox_spine('month') }}

),

-- Bands on the contract's thread_count (the API's `threads`). A missing count
-- falls in the first band.
bands as (

    select
        band_order,
        thread_count_band,
        min_threads,
        max_threads
    from (
        values
        (1, '1', 0, 1),
        (2, '2', 2, 2),
        (3, '3-5', 3, 5),
        (4, '6-10', 6, 10),
        (5, '11-20', 11, 20),
        (6, '21+', 21, null)
    ) as band_values (band_order, thread_count_band, min_threads, max_threads)

),

{% if is_incremental() -%}
    redo_keys as (

        {{ kpi_redo_keys('month', 'month_start', has_is_complete=false) }}

    ),
{%- endif %}

-- every band of every month to build
cells as (

    select
        spine.mailbox_id,
        spine.period_start as month_start,
        bands.band_order,
        bands.thread_count_band,
        bands.min_threads,
        bands.max_threads
    from spine
    cross join bands
    {{ kpi_spine_in_redo_keys() }}

),

banded as (

    select
        kpi_conversations.mailbox_id,
        date_trunc('month', kpi_conversations.created_at_local)::date as month_start,
        bands.band_order,
        kpi_conversations.is_closed,
        kpi_conversations.resolution_minutes
    from kpi_conversations
    inner join bands
        on
            coalesce(kpi_conversations.thread_count, 0) >= bands.min_threads
            and (bands.max_threads is null or coalesce(kpi_conversations.thread_count, 0) <= bands.max_threads)
    where {{ kpi_in_redo_keys('mailbox_id', 'month', 'created_at_local') }}

),

per_cell as (

    select
        mailbox_id,
        month_start,
        band_order,
        count(*) as conversations_received,
        count(*) filter (where is_closed) as conversations_closed,
        {{ kpi_percentile('resolution_minutes', 0.5) }} as resolution_minutes_median
    from banded
    group by mailbox_id, month_start, band_order

),

band_months as (

    select
        cells.mailbox_id,
        cells.month_start,
        cells.thread_count_band,
        cells.band_order,
        cells.min_threads,
        cells.max_threads,
        coalesce(per_cell.conversations_received, 0) as conversations_received,
        coalesce(per_cell.conversations_closed, 0) as conversations_closed,
        per_cell.resolution_minutes_median

    from cells
    left join per_cell
        on
            cells.mailbox_id = per_cell.mailbox_id
            and cells.month_start = per_cell.month_start
            and cells.band_order = per_cell.band_order

),

final as (

    {{ kpi_redo_rows('band_months', 'month_start') }}

)

select * from final
