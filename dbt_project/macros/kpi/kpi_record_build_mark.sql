{#- Post-hook of a period-incremental KPI mart (in its transaction): its rows
    now reflect the footprints up to int_kpi__affected_periods' computed_through,
    under the current settings. -#}
{% macro kpi_record_build_mark() -%}
    insert into {{ kpi_build_marks_relation() }}
        (model_name, recorded_through, settings_fingerprint, built_at)
    select
        '{{ this.identifier }}',
        (select max(affected.computed_through) from {{ ref('int_kpi__affected_periods') }} as affected),
        {{ kpi_settings_fingerprint() }},
        now()
    on conflict (model_name) do update set
        recorded_through = excluded.recorded_through,
        settings_fingerprint = excluded.settings_fingerprint,
        built_at = excluded.built_at
{%- endmacro %}
