{#- Conversations per mailbox, month of creation and thread-count band, with the
    median resolution of each cell: how long conversations run, and what long
    ones cost. Every band of every month from the mailbox's first activity to the
    account's latest is present (zero when quiet). -#}
{{ config(indexes=[{'columns': ['mailbox_id', 'month_start', 'thread_count_band'], 'unique': true}]) }}

with

kpi_conversations as (

    select * from {{ ref('int_kpi__conversations') }}

),

months as (

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

spine as (

    select
        months.mailbox_id,
        months.period_start as month_start,
        bands.band_order,
        bands.thread_count_band,
        bands.min_threads,
        bands.max_threads
    from months
    cross join bands

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

final as (

    select
        spine.mailbox_id,
        spine.month_start,
        spine.thread_count_band,
        spine.band_order,
        spine.min_threads,
        spine.max_threads,
        coalesce(per_cell.conversations_received, 0) as conversations_received,
        coalesce(per_cell.conversations_closed, 0) as conversations_closed,
        per_cell.resolution_minutes_median

    from spine
    left join per_cell
        on
            spine.mailbox_id = per_cell.mailbox_id
            and spine.month_start = per_cell.month_start
            and spine.band_order = per_cell.band_order

)

select * from final
