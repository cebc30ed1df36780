{#- Zero-filled period spines. Quiet periods get a row (with zero counts) so a
    chart's x axis has no gaps. Both run to the account's latest period with
    activity (not to today): rebuilding the same lake gives the same rows. -#}

{#- One row per mailbox and period (period_start, a date), from the mailbox's
    first activity to the account's latest. grain: day, week, month or year. -#}
{% macro kpi_mailbox_spine(grain) -%}
    select
        activity.mailbox_id,
        spine.period_start::date as period_start
    from {{ ref('int_kpi__mailbox_activity') }} as activity
    cross join
        {{ kpi_period_series(grain, 'activity.first_activity_at_local', 'activity.account_last_activity_at_local') }}
{%- endmacro %}

{#- One row per period (period_start, a date) from the account's first activity to its latest. -#}
{% macro kpi_account_spine(grain) -%}
    select spine.period_start::date as period_start
    from (
        select
            min(account_first_activity_at_local) as first_activity_at_local,
            max(account_last_activity_at_local) as last_activity_at_local
        from {{ ref('int_kpi__mailbox_activity') }}
    ) as bounds
    cross join
        {{ kpi_period_series(grain, 'bounds.first_activity_at_local', 'bounds.last_activity_at_local') }}
{%- endmacro %}

{#- The periods (of `grain`) from the one holding `first_at` to the one holding `last_at`. -#}
{% macro kpi_period_series(grain, first_at, last_at) -%}
    lateral generate_series(
            date_trunc('{{ grain }}', {{ first_at }}),
            date_trunc('{{ grain }}', {{ last_at }}),
            interval '1 {{ grain }}'
        ) as spine (period_start)
{%- endmacro %}
