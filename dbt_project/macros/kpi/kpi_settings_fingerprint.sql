{#- A digest of every var that changes what a KPI row holds (zone, filters,
    business hours, SLA, personal data, subject patterns, wave and anomaly
    settings). The period-incremental KPI models keep the digest they were
    built with and redo everything when it differs, so a settings change never
    leaves rows of two configurations side by side. The holidays seed is not in
    it: changing the seed needs a --full-refresh (DECISIONLOG.md). Rendered as
    a SQL expression (md5 of the settings as JSON). -#}
{% macro kpi_settings_fingerprint() -%}
    {%- set settings = {
        'reporting_timezone': var('reporting_timezone') | string,
        'kpi_include_internal': kpi_var_is_true('kpi_include_internal'),
        'kpi_include_system_closed': kpi_var_is_true('kpi_include_system_closed'),
        'internal_email_domains': var('internal_email_domains') | list,
        'system_closer_emails': var('system_closer_emails') | list,
        'business_hours': var('business_hours'),
        'mailbox_business_hours': var('mailbox_business_hours'),
        'sla_first_response_business_minutes': var('sla_first_response_business_minutes') | string,
        'personal_data': personal_data_mode(),
        'auto_reply_subject_patterns': var('auto_reply_subject_patterns') | list,
        'subject_wave_min_conversations': var('subject_wave_min_conversations') | string,
        'anomaly': [var('anomaly_baseline_weeks') | string, var('anomaly_iqr_multiplier') | string,
                    var('anomaly_min_delta') | string],
    } -%}
    {{- return("md5('" ~ (tojson(settings, sort_keys=true) | replace("'", "''")) ~ "')") -}}
{%- endmacro %}
