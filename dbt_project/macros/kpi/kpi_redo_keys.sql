{#- In an incremental run of a period-incremental KPI mart of `grain` (held
    periods in `period_column`): the keys to redo, reading the model's `spine`
    CTE (columns `key_column`, if any, and period_start). `key_column`:
    'mailbox_id' for a per-mailbox mart (keys mailbox_id, period_start); none
    for an account-level mart (key period_start: a period holding an affected
    point day of any mailbox; such marts have no open counts, so days on which
    only an open count moved are not theirs); any other column (tag_id) for a
    mart whose rows the footprints do not name by that key: every spine key
    in such a period.

    With a usable mark (kpi_redo_mark): the periods int_kpi__affected_periods
    names since it, the spine's new keys, the held keys the spine no longer
    has (deleted) and the held keys not complete yet (the watermark may have
    passed them; `has_is_complete` false for a mart whose rows do not follow
    the watermark). Without one: every key, held or in the spine. -#}
{% macro kpi_redo_keys(grain, period_column, key_column='mailbox_id', has_is_complete=true) -%}
    {%- set redo_mark = kpi_redo_mark() -%}
    {%- set keys = (key_column ~ ', ' if key_column else '') ~ 'period_start' -%}
    {%- set held_keys = ('held.' ~ key_column ~ ', ' if key_column else '') ~ 'held.period_start' -%}
    {%- set spine_keys = ('spine.' ~ key_column ~ ', ' if key_column else '') ~ 'spine.period_start' -%}
    {%- set held -%}
        (
            select
                {{ 'held.' ~ key_column ~ ',' if key_column }}
                held.{{ period_column }} as period_start{{ ', held.is_complete' if has_is_complete }}
            from {{ this }} as held
        )
    {%- endset -%}
    {%- if redo_mark is none %}
        select {{ spine_keys }} from spine
        union
        select {{ held_keys }} from {{ held }} as held
    {%- else %}
        {%- set affected_periods -%}
            select distinct date_trunc('{{ grain }}', affected.date_day)::date as period_start
            from {{ ref('int_kpi__affected_periods') }} as affected
            where affected.marked_through = {{ redo_mark }} and affected.is_point_day
        {%- endset %}
        {%- if key_column == 'mailbox_id' %}
            select
                affected.mailbox_id,
                date_trunc('{{ grain }}', affected.date_day)::date as period_start
            from {{ ref('int_kpi__affected_periods') }} as affected
            where affected.marked_through = {{ redo_mark }} and affected.mailbox_id is not null
        {%- elif not key_column %}
            {{ affected_periods }}
        {%- else %}
            select {{ spine_keys }}
            from spine
            where spine.period_start in ({{ affected_periods }})
        {%- endif %}
        union
        (
            select {{ spine_keys }} from spine
            except
            select {{ held_keys }} from {{ held }} as held
        )
        union
        (
            select {{ held_keys }} from {{ held }} as held
            except
            select {{ spine_keys }} from spine
        )
        {%- if has_is_complete %}
            union
            select {{ held_keys }} from {{ held }} as held
            where not held.is_complete
        {%- endif %}
    {%- endif %}
{%- endmacro %}
