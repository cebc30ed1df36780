{#- Post-hook of a conversation-incremental KPI model (in its transaction): its
    rows now hold the current settings (read back by kpi_settings_held). -#}
{% macro kpi_record_settings_mark() -%}
    insert into {{ kpi_build_marks_relation() }}
        (model_name, recorded_through, settings_fingerprint, built_at)
    values ('{{ this.identifier }}', null, {{ kpi_settings_fingerprint() }}, now())
    on conflict (model_name) do update set
        settings_fingerprint = excluded.settings_fingerprint,
        built_at = excluded.built_at
{%- endmacro %}
