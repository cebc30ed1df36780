{#- The open count at each period end of a per-mailbox KPI mart: the running
    sum of `changes` (a kpi_open_changes CTE) over the model's `spine` CTE
    (mailbox_id, period_start). Columns: mailbox_id, period_start, open_count.

    In an incremental run only the redo keys are summed: a period the run keeps
    is one whose open count did not change (int_kpi__affected_periods names
    every day an open count moved), so its held `held_column` is still right
    and anchors the periods redone after it, up to the next kept one. A redone
    period with no kept period before it sums from the mailbox's first one.
    So a run reads the intervals of its redo keys only, not of every period of
    the mailboxes it touches. -#}
{% macro kpi_open_counts(changes, held_column, period_column) -%}
    {%- if is_incremental() %}
        select
            mailbox_id,
            period_start,
            coalesce(first_value(anchor_count) over anchor_run, 0)
            + sum(net_change) over (anchor_run rows between unbounded preceding and current row)
                as open_count
        from (
            select
                sequenced.*,
                count(*) filter (where not sequenced.is_redone) over (
                    partition by sequenced.mailbox_id
                    order by sequenced.period_start
                    rows between unbounded preceding and current row
                ) as anchor_number
            from (
                select
                    spine.mailbox_id,
                    spine.period_start,
                    redo_keys.period_start is not null as is_redone,
                    held.{{ held_column }} as anchor_count,
                    case
                        when redo_keys.period_start is not null then coalesce({{ changes }}.open_net_change, 0)
                        else 0
                    end as net_change
                from spine
                left join redo_keys
                    on spine.mailbox_id = redo_keys.mailbox_id and spine.period_start = redo_keys.period_start
                left join {{ this }} as held
                    on
                        redo_keys.period_start is null
                        and spine.mailbox_id = held.mailbox_id
                        and spine.period_start = held.{{ period_column }}
                left join {{ changes }}
                    on spine.mailbox_id = {{ changes }}.mailbox_id and spine.period_start = {{ changes }}.period_start
                where spine.mailbox_id in (select redo_mailboxes.mailbox_id from redo_keys as redo_mailboxes)
            ) as sequenced
        ) as anchored
        window anchor_run as (partition by mailbox_id, anchor_number order by period_start)
    {%- else %}
        select
            spine.mailbox_id,
            spine.period_start,
            sum(coalesce({{ changes }}.open_net_change, 0)) over (
                partition by spine.mailbox_id
                order by spine.period_start
                rows between unbounded preceding and current row
            ) as open_count
        from spine
        left join {{ changes }}
            on spine.mailbox_id = {{ changes }}.mailbox_id and spine.period_start = {{ changes }}.period_start
    {%- endif %}
{%- endmacro %}
