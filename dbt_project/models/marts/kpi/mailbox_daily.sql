{{
    config(
        materialized='incremental',
        unique_key=['mailbox_id', 'date_day'],
        present_column='period_end_at',
        indexes=[{'columns': ['mailbox_id', 'date_day'], 'unique': true}],
        pre_hook="{{ kpi_prefer_index_reads('day') }}",
        post_hook=['{{ kpi_record_build_mark() }}'],
    )
}}
-- the mark and the affected periods (kpi_redo_keys, kpi_record_build_mark)
-- depends_on: {{ ref('int_kpi__conversation_footprints') }}
-- depends_on: {{ ref('int_kpi__affected_periods') }}
{{ kpi_mailbox_period_model(grain='day', period_column='date_day') }}
