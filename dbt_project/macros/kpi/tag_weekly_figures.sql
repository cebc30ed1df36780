{#- One of tag_weekly's aggregates (received, closed, first responses): per
    redo key (tag_id, week_start), `figures` (output column -> aggregate of
    `tagged`) over the tagged conversations whose `week_column` is the week.

    With a usable mark (`redo_mark`) `tagged` holds only the conversations
    with a figure in an affected week, so the aggregate covers the affected
    weeks, and a redo key of a week no affected key touches (not complete
    yet, renamed tag, new spine key) keeps its held figures: no conversation
    with a figure in that week changed, so they are still right (a new key
    there has none). -#}
{% macro tag_weekly_figures(redo_mark, week_column, figures) -%}
    {%- set aggregates = [] -%}
    {%- set held_columns = [] -%}
    {%- for column, aggregate in figures.items() -%}
        {%- do aggregates.append(aggregate ~ ' as ' ~ column) -%}
        {%- do held_columns.append('held.' ~ column) -%}
    {%- endfor -%}
    {%- set affected_weeks = '(select affected_weeks.week_start from affected_weeks)' -%}
    {%- set conditions = [week_column ~ ' is not null', kpi_in_redo_keys('tag_id', 'week', week_column)] -%}
    {%- if redo_mark is not none -%}
        {%- do conditions.append(week_column ~ ' in ' ~ affected_weeks) -%}
    {%- endif -%}
    select
        tag_id,
        {{ week_column }} as week_start,
        {{ aggregates | join(', ') }}
    from tagged
    where {{ conditions | join(' and ') }}
    group by tag_id, {{ week_column }}
    {%- if redo_mark is not none %}
        union all
        select
            held.tag_id,
            held.week_start,
            {{ held_columns | join(', ') }}
        from {{ this }} as held
        where
            (held.tag_id, held.week_start) in (select redo_keys.tag_id, redo_keys.period_start from redo_keys)
            and held.week_start not in {{ affected_weeks }}
    {%- endif %}
{%- endmacro %}
