{#- Per mailbox and period of `grain`, how the count of open (active or pending)
    conversations at the period's end changes: +1 in the period holding an open
    interval's start, -1 in the period holding its end (see
    int_kpi__status_intervals). The running sum over a mailbox's zero-filled
    periods is the open count at each period end. `where` narrows the intervals
    (e.g. to pending ones). Columns: mailbox_id, period_start, open_net_change. -#}
{% macro kpi_open_changes(grain, where='true') -%}
    select
        mailbox_id,
        period_start,
        sum(open_change) as open_net_change
    from (
        select
            mailbox_id,
            date_trunc('{{ grain }}', valid_from_local)::date as period_start,
            1 as open_change
        from {{ ref('int_kpi__status_intervals') }}
        where is_open and ({{ where }})

        union all

        select
            mailbox_id,
            date_trunc('{{ grain }}', valid_to_local)::date as period_start,
            -1 as open_change
        from {{ ref('int_kpi__status_intervals') }}
        where is_open and ({{ where }}) and valid_to is not null
    ) as changes
    group by mailbox_id, period_start
{%- endmacro %}
