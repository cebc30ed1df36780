{{ config(indexes=[{'columns': ['mailbox_id', 'date_day'], 'unique': true}]) }}
{{ kpi_mailbox_period_model(grain='day', period_column='date_day') }}
