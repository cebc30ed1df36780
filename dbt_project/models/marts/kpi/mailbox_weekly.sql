{{ config(indexes=[{'columns': ['mailbox_id', 'week_start'], 'unique': true}]) }}
{{ kpi_mailbox_period_model(grain='week', period_column='week_start') }}
