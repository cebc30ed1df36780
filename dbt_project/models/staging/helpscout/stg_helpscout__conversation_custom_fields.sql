{#- The custom field values of each conversation's latest copy, one row per
    (conversation, field), exploded from stg_helpscout__conversations.custom_fields.

    `value` is what the API stores (a dropdown's option id, a date, a number,
    text); `text` is how Help Scout shows it (a dropdown's label). A value that
    is null or empty is no value: Help Scout lists a field whose value was
    removed that way, or not at all. Elements that are not objects or carry no
    whole-number id are skipped; a field listed twice counts once.

    Incremental like stg_helpscout__conversation_tags: a conversation whose copy
    changed gets all its rows replaced, so a removed value removes its row. -#}
{{
    config(
        unique_key='conversation_id',
        present_column='field_id',
        indexes=[
            {'columns': ['conversation_id', 'field_id'], 'unique': true},
            {'columns': ['lake_loaded_at']},
        ],
    )
}}

with

conversations as (

    {%- if is_incremental() %}
        {{ restaged_conversations(columns=['conversation_id', 'custom_fields', 'lake_loaded_at']) }}
    {%- else %}
        select
            conversation_id,
            custom_fields,
            lake_loaded_at
        from {{ ref('stg_helpscout__conversations') }}
    {%- endif %}

),

field_elements as (

    select
        conversations.conversation_id,
        conversations.lake_loaded_at,
        elements.field_value,
        elements.field_position
    from conversations
    cross join
        lateral jsonb_array_elements(conversations.custom_fields)
        with ordinality as elements (field_value, field_position)
    where jsonb_typeof(elements.field_value) = 'object'

),

conversation_custom_fields as (

    select distinct on (conversation_id, field_id)
        conversation_id,
        {{ json_bigint("field_value ->> 'id'") }} as field_id,
        field_value ->> 'name' as field_name,
        field_value ->> 'value' as field_value,
        coalesce(nullif(field_value ->> 'text', ''), field_value ->> 'value') as field_text,
        lake_loaded_at
    from field_elements
    where
        {{ json_bigint("field_value ->> 'id'") }} is not null
        and nullif(field_value ->> 'value', '') is not null
    order by conversation_id asc, field_id asc, field_position asc

),

final as (

    {{ replace_by_key_rows('conversation_custom_fields', 'conversations', 'conversation_id') }}  -- noqa: RF02, ST07

)

select * from final
