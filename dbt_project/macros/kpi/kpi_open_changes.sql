{#- Per mailbox and period of `grain`, how the count of open (active or pending)
    conversations at the period's end changes: +1 in the period holding an open
    interval's start, -1 in the period holding its end (see
    int_kpi__status_intervals). The running sum over a mailbox's zero-filled
    periods is the open count at each period end (kpi_open_counts). `where`
    narrows the intervals (e.g. to pending ones); in an incremental run, only
    the model's redo keys are read. Columns: mailbox_id, period_start,
    open_net_change. -#}
{% macro kpi_open_changes(grain, where='true') -%}
    select
        mailbox_id,
        period_start,
        sum(open_change) as open_net_change
    from (
        select
            mailbox_id,
            {{ kpi_period_key(grain, 'valid_from_local') }} as period_start,
            1 as open_change
        from {{ ref('int_kpi__status_intervals') }}
        where
            is_open and ({{ where }})
            and {{ kpi_in_redo_keys('mailbox_id', grain, 'valid_from_local') }}

        union all

        select
            mailbox_id,
            {{ kpi_period_key(grain, 'valid_to_local') }} as period_start,
            -1 as open_change
        from {{ ref('int_kpi__status_intervals') }}
        where
            is_open and ({{ where }}) and valid_to is not null
            and {{ kpi_in_redo_keys('mailbox_id', grain, 'valid_to_local') }}
    ) as changes
    group by mailbox_id, period_start
{%- endmacro %}
