{#- The data watermark (contract, "Partial periods"): the end of the gapless
    chain of completed conversation windows in the load log, the same instant
    `hs-load status` reports (loader/windows.py `watermark`). A scalar subquery;
    null while no conversation window has completed, so that no period counts
    as complete before the lake holds one.

    The chain starts at the earliest completed window; a window continues it
    when it starts at most one second after the furthest end so far. -#}
{% macro kpi_data_watermark() -%}
    (
        select max(chained.window_end)
        from (
            select
                ordered.window_end,
                -- the first window that leaves a gap ends the chain
                bool_or(ordered.window_start > ordered.chain_end_before + interval '1 second') over (
                    order by ordered.window_start, ordered.window_end
                    rows between unbounded preceding and current row
                ) as is_after_gap
            from (
                select
                    windows.window_start,
                    windows.window_end,
                    max(windows.window_end) over (
                        order by windows.window_start, windows.window_end
                        rows between unbounded preceding and 1 preceding
                    ) as chain_end_before
                from {{ source('helpscout_raw', 'load_windows') }} as windows
                where
                    windows.stream = 'conversations'
                    and windows.status = 'completed'
                    and windows.window_start is not null
            ) as ordered
        ) as chained
        where not chained.is_after_gap
    )
{%- endmacro %}
