{{ kpi_mailbox_period_model(grain='day', period_column='date_day') }}
