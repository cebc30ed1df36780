{#- One row: the configuration this build of the KPI marts used, so that a report
    or a dashboard can say which time zone and which filters its numbers follow
    (vars passed with --vars leave no other trace in the warehouse), and how far
    the data reached (the data watermark) when it was built. -#}

{%- set internal_domains = var('internal_email_domains') | join(', ') %}

with

final as (

    select
        {{ kpi_timezone_literal() }}::text as reporting_timezone,
        {{ 'true' if kpi_var_is_true('kpi_include_internal') else 'false' }} as is_internal_included,
        {{ 'true' if kpi_var_is_true('kpi_include_system_closed') else 'false' }}
            as is_system_closed_included,
        '{{ internal_domains | replace("'", "''") }}'::text as internal_email_domains,
        {{ var('anomaly_baseline_weeks') | int }} as anomaly_baseline_weeks,
        {{ var('anomaly_iqr_multiplier') | float }}::numeric as anomaly_iqr_multiplier,
        {{ var('anomaly_min_delta') | float }}::numeric as anomaly_min_delta,
        (
            select watermark.data_watermark_at
            from {{ ref('int_helpscout__data_watermark') }} as watermark
        ) as data_watermark_at

)

select * from final
