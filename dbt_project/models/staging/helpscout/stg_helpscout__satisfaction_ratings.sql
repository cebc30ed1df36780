{#- The latest copy of each satisfaction rating (GET /v2/reports/happiness/ratings),
    flattened. The report has no rating id: the rated thread identifies a rating
    (one per reply), so rating_id is the thread id. The report writes the rating
    as a code in `ratingId` (1 great, 2 okay, 3 not good); a `rating` text field
    (great, ok/okay, not-good/not_good) wins when present. Anything else (the API
    knows an `unknown` rating) stays null. Comments are personal words: they stay
    in the lake. -#}
{{
    config(
        unique_key='rating_id',
        present_column='rating_id',
        indexes=[
            {'columns': ['rating_id'], 'unique': true},
            {'columns': ['conversation_id']},
        ],
    )
}}

with

latest_copies as (

    {{ latest_lake_copies(source('helpscout_raw', 'satisfaction_ratings'), 'rating_id') }}

),

final as (

    select
        entity_id as rating_id,
        {{ json_bigint("payload ->> 'id'") }} as conversation_id,
        {{ json_bigint("payload ->> 'number'") }} as conversation_number,
        entity_id as thread_id,
        {{ json_bigint("payload ->> 'ratingUserId'") }} as user_id,
        {{ json_bigint("payload ->> 'ratingCustomerId'") }} as customer_id,
        case lower(coalesce(payload ->> 'rating', payload ->> 'ratingId'))
            when '1' then 'great'
            when 'great' then 'great'
            when '2' then 'okay'
            when 'ok' then 'okay'
            when 'okay' then 'okay'
            when '3' then 'not_good'
            when 'not-good' then 'not_good'
            when 'not_good' then 'not_good'
            when 'bad' then 'not_good'
        end as rating,
        {{ json_timestamp("payload ->> 'ratingCreatedAt'") }} as created_at,
        run_id,
        extracted_at,
        lake_id,
        loaded_at as lake_loaded_at
    from latest_copies

)

select * from final
