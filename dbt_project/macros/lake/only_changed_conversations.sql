{#- In an incremental run: a where clause keeping the rows of the conversations
    in the model's `changed_conversations` CTE (see changed_conversations), so
    each input of the model reads only what it must redo. In a full build:
    nothing (every row). -#}
{% macro only_changed_conversations(column) -%}
    {%- if is_incremental() -%}
        where {{ column }} in (select changed_conversations.conversation_id from changed_conversations)
    {%- endif -%}
{%- endmacro %}
