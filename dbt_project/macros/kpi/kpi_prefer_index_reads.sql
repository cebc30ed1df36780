{#- The pre-hook of the period-incremental KPI marts whose inputs have
    kpi_period_indexes (mailbox_daily, mailbox_weekly, mailbox_backlog_daily,
    weekly_summary, auto_replies_daily; an account-level mart, key_column
    none, reads the (mailbox_id, period) index by PostgreSQL 18's skip scan):
    in an incremental run with a usable mark whose affected keys of `grain`
    are fewer than a quarter of the mart's rows, plan the model's statement
    without sequential scans where an index serves.

    The redo keys come from a CTE without statistics, so PostgreSQL estimates
    their join with each input at a large share of it and hashes every input
    once per aggregate. After a recent batch (a few hundred keys) the indexes
    win: at 1M conversations after a 1% batch, mailbox_daily's statement
    1.4 -> 0.4 s, weekly_summary's 0.9 -> 0.25 s. After a change spread over
    all history nearly every key is redone, and hashing each input once wins
    (mailbox_backlog_daily 5 s through hashes, 16 s through the indexes).
    Without a mark every key is redone and the default plan is the right one.
    `held_period_column`: for an account-level mart with more than one row
    per period (tag_weekly), the held column whose distinct periods the
    affected ones are compared with. `set local` ends with the model's transaction. -#}
{% macro kpi_prefer_index_reads(grain, key_column='mailbox_id', held_period_column=none) -%}
    {%- set redo_mark = kpi_redo_mark() -%}
    {%- if redo_mark is not none -%}
        {%- set period = "date_trunc('" ~ grain ~ "', affected.date_day)" -%}
        {%- set query -%}
        select
            (
                select count(distinct {{ '(affected.mailbox_id, ' ~ period ~ ')' if key_column else period }})
                from {{ ref('int_kpi__affected_periods') }} as affected
                where
                    affected.marked_through = {{ redo_mark }}
                    and {{ 'affected.mailbox_id is not null' if key_column else 'affected.is_point_day' }}
            ) * 4 < (select {{ 'count(distinct ' ~ held_period_column ~ ')' if held_period_column else 'count(*)' }} from {{ this }})
        {%- endset -%}
        {%- if run_query(query).columns[0].values()[0] -%}
            {{- return('set local enable_seqscan = off') -}}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}
