{#- A zero-filled period spine: one row per mailbox and period (period_start,
    a date), from the mailbox's first activity to the account's latest. grain:
    day, week, month or year.

    Quiet periods get a row (with zero counts) so a chart's x axis has no gaps.
    This spine and kpi_account_spine run to the account's latest period with
    activity (not to today): rebuilding the same lake gives the same rows. -#}
{% macro kpi_mailbox_spine(grain) -%}
    select
        activity.mailbox_id,
        spine.period_start::date as period_start
    from {{ ref('int_kpi__mailbox_activity') }} as activity
    cross join
        {{ kpi_period_series(grain, 'activity.first_activity_at_local', 'activity.account_last_activity_at_local') }}
{%- endmacro %}
