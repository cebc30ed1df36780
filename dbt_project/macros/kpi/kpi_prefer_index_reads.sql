{#- The pre-hook of the period-incremental KPI marts whose inputs have
    kpi_period_indexes (mailbox_daily, mailbox_weekly, mailbox_backlog_daily,
    weekly_summary, auto_replies_daily; an account-level mart reads the
    (mailbox_id, period) index by PostgreSQL 18's skip scan): in an
    incremental run with a usable mark, plan the model's statement without
    sequential scans where an index serves.

    The redo keys are usually a few hundred (mailbox, period) pairs, but they
    come from a CTE without statistics, so PostgreSQL estimates their join
    with each input at a large share of it and reads all of
    int_kpi__conversations, int_kpi__replies and int_kpi__status_intervals,
    once per aggregate, instead of reaching the keys through their
    kpi_period_indexes. At 1M conversations after a 1% batch: 1.4 s of
    mailbox_daily's statement, 0.4 s with this (weekly_summary 0.9 -> 0.25 s).
    Without a mark every key is redone and the default plan is the right one. `set local` ends with the
    model's transaction. -#}
{% macro kpi_prefer_index_reads() -%}
    {%- if kpi_redo_mark() is not none -%}
        set local enable_seqscan = off
    {%- endif -%}
{%- endmacro %}
