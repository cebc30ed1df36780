{#- True when `column` (a subject) matches any of the `auto_reply_subject_patterns`
    var: PostgreSQL regular expressions, matched case-insensitively (~*) anywhere in
    the subject. A null subject is not an automatic reply; no patterns, no match. -#}
{% macro kpi_is_auto_reply(column) -%}
    {%- set patterns = var('auto_reply_subject_patterns') -%}
    {%- if patterns is string -%}{%- set patterns = [patterns] -%}{%- endif -%}
    {%- if patterns | length == 0 -%}
        false
    {%- else -%}
        coalesce({{ column }} ~* any (array['
        {{- patterns | map('string') | map('replace', "'", "''") | join("', '") -}}
        ']::text []), false)
    {%- endif -%}
{%- endmacro %}
