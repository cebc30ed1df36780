{#- The one place that decides which conversations the KPI marts count, and the
    one place that turns their UTC timestamps into reporting-zone wall time.

    Incremental by conversation (replace_by_key): a run redoes the
    conversations of kpi_changed_conversations, dropping those the filter now
    leaves out, and those still waiting for a first response within the SLA,
    whose breach flag the advancing watermark can set without a new copy. -#}
{{
    config(
        materialized='incremental',
        unique_key='conversation_id',
        present_column='mailbox_id',
        pre_hook='{{ kpi_create_build_marks() }}',
        post_hook=['{{ refresh_statistics() }}', '{{ kpi_record_settings_mark() }}'],
        indexes=[
            {'columns': ['conversation_id'], 'unique': true},
            {'columns': ['lake_loaded_at']},
        ] + kpi_period_indexes(['created_at_local', 'closed_at_local', 'first_response_at_local']),
    )
}}

with

{%- if is_incremental() %}

    changed_conversations as (

        {{ kpi_changed_conversations() }}
        union
        select held.conversation_id
        from {{ this }} as held
        where held.first_response_at is null and held.is_first_response_sla_breached is false

    ),
{%- endif %}

conversations as (

    select * from {{ ref('conversations') }}
    {{ only_changed_conversations('conversation_id') }}

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

kpi_conversations as (

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
        {{ kpi_local('first_response_at') }} as first_response_at_local,
        lake_loaded_at

    from counted

),

final as (

    {{ replace_by_key_rows('kpi_conversations', 'changed_conversations', 'conversation_id') }}  -- noqa: RF02, ST07

)

select * from final
