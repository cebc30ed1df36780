{#- The conversations (conversation_id) a conversation-incremental KPI model
    (int_kpi__conversations, int_kpi__replies, int_kpi__status_intervals)
    redoes: those whose row in the conversations mart was rebuilt since the
    model's high-water mark less the lookback (the mart gives every change of
    a row a later lake_loaded_at, an SLA breach aside) and whose rows in the
    model (`this`) were built from another lake_loaded_at, including rows the
    KPI filter now leaves out, whose old rows must go. `rows_now`: a condition
    on `conversations` true when the model would now hold rows of it; a
    conversation the model holds no rows of is then redone only when it is
    true. Without it (a model with a row for every counted conversation), one
    the filter leaves out is redone while the lookback reads it: that costs
    little, it has nothing to replace. Every conversation when the model was
    built under other settings (kpi_settings_held). Only call it when
    is_incremental(). -#}
{% macro kpi_changed_conversations(rows_now=none) -%}
    select conversations.conversation_id
    from {{ ref('conversations') }} as conversations
    {%- if kpi_settings_held() %}
        where
            conversations.lake_loaded_at > {{ incremental_lake_cutoff() }}
            and not exists (
                select 1
                from {{ this }} as held
                where
                    held.conversation_id = conversations.conversation_id
                    and held.lake_loaded_at = conversations.lake_loaded_at
            )
            and (
                exists (
                    select 1
                    from {{ this }} as held
                    where held.conversation_id = conversations.conversation_id
                )
                or {{ rows_now or 'true' }}
            )
    {%- endif %}
{%- endmacro %}
