{#- The conversations (conversation_id) of the conversations mart (`this`)
    still waiting for a first response within the SLA. The advancing data
    watermark can breach their SLA without any new copy of them, so an
    incremental run redoes them too; once breached or answered they stay put.
    Without a watermark (no completed window yet) no flag can change, so none
    is redone. Only call it when is_incremental(). -#}
{% macro sla_waiting_conversations() -%}
    select held.conversation_id
    from {{ this }} as held
    where
        held.first_response_at is null
        and held.is_first_response_sla_breached is false
        and exists (
            select 1
            from {{ ref('int_helpscout__data_watermark') }} as watermark
            where watermark.data_watermark_at is not null
        )
{%- endmacro %}
