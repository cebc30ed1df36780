{#- The one place that decides which conversations the KPI marts count, and the
    one place that turns their UTC timestamps into reporting-zone wall time. -#}
{{ config(indexes=[{'columns': ['conversation_id'], 'unique': true}]) }}

with

conversations as (

    select * from {{ ref('conversations') }}

),

counted as (

    select *
    from conversations
    -- `is not true` keeps a row whose flag is unknown: a missing value must never
    -- silently drop a conversation (NULL logic did exactly that in the old pipeline).
    where
        is_spam is not true
        and is_deleted is not true
        -- without a creation time or a mailbox (never from the API; only from a
        -- value staging could not read) a conversation has no period or no
        -- mailbox to count in, and weekly_summary must stay the sum of mailbox_weekly
        and created_at is not null
        and mailbox_id is not null
        {%- if not kpi_var_is_true('kpi_include_internal') %}
            and is_internal is not true
        {%- endif %}
        {%- if not kpi_var_is_true('kpi_include_system_closed') %}
            and is_closed_by_system is not true
        {%- endif %}

),

final as (

    select
        conversation_id,
        mailbox_id,
        status,
        subject,
        nullif(subject_normalized, '') as subject_normalized,
        thread_count,
        created_at,
        closed_at,
        first_response_at,
        first_response_minutes,
        resolution_minutes,
        first_response_business_minutes,
        resolution_business_minutes,
        is_first_response_sla_breached,
        coalesce(status = 'closed' and closed_at is not null, false) as is_closed,
        {{ kpi_local('created_at') }} as created_at_local,
        case
            when status = 'closed' then {{ kpi_local('closed_at') }}
        end as closed_at_local,
        {{ kpi_local('first_response_at') }} as first_response_at_local

    from counted

)

select * from final
