{#- tag_weekly's input: one row per KPI conversation and tag, with its name,
    minutes and the weeks of its figures (created, closed, first response).
    With `weeks` (a CTE name) and its `week_column`: only the conversations
    with a figure in one of those weeks, each figure looked up through
    int_kpi__conversations' kpi_period_indexes (an IN under an OR would
    test every conversation instead). -#}
{% macro tag_weekly_tagged(weeks=none, week_column=none) -%}
    {%- set lookups = [] -%}
    {%- for figure in ['created_at_local', 'closed_at_local', 'first_response_at_local'] -%}
        {%- do lookups.append(
            'select in_weeks.conversation_id from kpi_conversations as in_weeks where '
            ~ kpi_period_key('week', 'in_weeks.' ~ figure)
            ~ ' in (select ' ~ weeks ~ '.' ~ week_column ~ ' from ' ~ weeks ~ ')'
        ) -%}
    {%- endfor -%}
    select
        conversation_tags.tag_id,
        conversation_tags.tag_name,
        kpi_conversations.resolution_minutes,
        kpi_conversations.first_response_minutes,
        {{ kpi_period_key('week', 'kpi_conversations.created_at_local') }} as created_week,
        {{ kpi_period_key('week', 'kpi_conversations.closed_at_local') }} as closed_week,
        {{ kpi_period_key('week', 'kpi_conversations.first_response_at_local') }} as first_response_week
    from conversation_tags
    inner join kpi_conversations
        on conversation_tags.conversation_id = kpi_conversations.conversation_id
    {%- if weeks %}
        where kpi_conversations.conversation_id in ({{ lookups | join(' union ') }})
    {%- endif %}
{%- endmacro %}
