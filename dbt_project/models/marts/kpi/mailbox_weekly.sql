{{ kpi_mailbox_period_model(grain='week', period_column='week_start') }}
