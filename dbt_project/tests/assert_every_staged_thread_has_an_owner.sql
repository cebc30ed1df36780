-- every thread of every conversation's latest copy is in the threads mart, under
-- one of the conversations that hold it (ownership after merges loses nothing);
-- checks the recently staged threads (see the recently_built macro)
with

staged_threads as (

    select staged.thread_id
    from {{ ref('stg_helpscout__threads') }} as staged
    where {{ recently_built('staged', ref('stg_helpscout__threads')) }}

),

final as (

    select staged_threads.thread_id
    from staged_threads
    left join {{ ref('threads') }} as threads
        on staged_threads.thread_id = threads.thread_id
    where threads.thread_id is null

)

select * from final
