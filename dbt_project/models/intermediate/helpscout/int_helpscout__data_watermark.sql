{#- The data watermark (one row): the end of the gapless chain of completed
    conversation windows in the load log that starts at the earliest one, as
    `hs-load status` reports it (loader/windows.py). A window continues the
    chain when it starts at most one second after the end reached so far.
    Null before the first completed window. -#}

with

load_windows as (

    select * from {{ source('helpscout_raw', 'load_windows') }}

),

completed as (

    select
        window_start,
        window_end,
        max(window_end) over (
            order by window_start, window_end
            rows between unbounded preceding and 1 preceding
        ) as chain_end_before
    from load_windows
    where
        stream = 'conversations'
        and status = 'completed'
        and window_start is not null

),

first_gap as (

    select min(window_start) as gap_window_start
    from completed
    where window_start > chain_end_before + interval '1 second'

),

final as (

    select max(completed.window_end) as data_watermark_at
    from completed
    cross join first_gap
    where completed.window_start < coalesce(first_gap.gap_window_start, 'infinity'::timestamptz)

)

select * from final
