{#- The data watermark: the end of the gapless chain of completed conversation
    windows in the load log, from the earliest one (what `hs-load status`
    reports). A window joins the chain when it starts at most one second after
    the chain's end (window bounds are whole seconds, both inclusive). Every
    change up to this instant is in the lake; KPI periods that end after it are
    incomplete. One row; null before the first completed window. -#}
with

windows as (

    select
        window_start,
        window_end
    from {{ source('helpscout_raw', 'load_windows') }}
    where
        stream = 'conversations'
        and status = 'completed'
        and window_start is not null

),

reach as (

    select
        window_start,
        window_end,
        max(window_end) over (
            order by window_start, window_end
            rows between unbounded preceding and 1 preceding
        ) as chain_end_before
    from windows

),

first_gap as (

    select min(window_start) as gap_window_start
    from reach
    where window_start > chain_end_before + interval '1 second'

),

final as (

    select max(windows.window_end) as data_watermark_at
    from windows
    cross join first_gap
    where windows.window_start < coalesce(first_gap.gap_window_start, 'infinity'::timestamptz)

)

select * from final
