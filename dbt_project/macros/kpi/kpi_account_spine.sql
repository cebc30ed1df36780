{#- One row per period (period_start, a date) from the account's first activity to its latest
    (zero-filled like kpi_mailbox_spine). -#}
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
