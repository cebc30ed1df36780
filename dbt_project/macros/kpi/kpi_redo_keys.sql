{#- In an incremental run of a period-incremental KPI mart of `grain` (held
    periods in `period_column`): the (mailbox_id, period_start) keys to redo,
    reading the model's `spine` CTE. With a usable mark (kpi_redo_mark): the
    periods int_kpi__affected_periods names since it, the spine's new periods,
    the held periods the spine no longer has (deleted) and the held periods not
    complete yet (the watermark may have passed them). Without one: every
    period, held or in the spine. -#}
{% macro kpi_redo_keys(grain, period_column) -%}
    {%- set redo_mark = kpi_redo_mark() -%}
    {%- set held -%}
        (select held.mailbox_id, held.{{ period_column }} as period_start, held.is_complete from {{ this }} as held)
    {%- endset -%}
    {%- if redo_mark is none %}
        select spine.mailbox_id, spine.period_start from spine
        union
        select held.mailbox_id, held.period_start from {{ held }} as held
    {%- else %}
        select
            affected.mailbox_id,
            date_trunc('{{ grain }}', affected.date_day)::date as period_start
        from {{ ref('int_kpi__affected_periods') }} as affected
        where affected.marked_through = {{ redo_mark }} and affected.mailbox_id is not null
        union
        (
            select spine.mailbox_id, spine.period_start from spine
            except
            select held.mailbox_id, held.period_start from {{ held }} as held
        )
        union
        (
            select held.mailbox_id, held.period_start from {{ held }} as held
            except
            select spine.mailbox_id, spine.period_start from spine
        )
        union
        select held.mailbox_id, held.period_start from {{ held }} as held
        where not held.is_complete
    {%- endif %}
{%- endmacro %}
