-- Anomalies per day (spikes and drops)
-- Superset chart alerts_anomalies_by_day (echarts_timeseries_bar) on dataset volume_anomalies.
-- Days whose volume is out of the ordinary, per mailbox.
with

volume_anomalies as (

    select
        volume_anomalies.date_day,
        mailboxes.mailbox_name,
        volume_anomalies.conversations_received,
        volume_anomalies.baseline_median,
        volume_anomalies.lower_bound,
        volume_anomalies.upper_bound,
        volume_anomalies.direction,
        volume_anomalies.is_complete
    from helpscout.volume_anomalies
    inner join helpscout.mailboxes on volume_anomalies.mailbox_id = mailboxes.mailbox_id

)

select
    date_day::date as date_day,
    direction,
    count(*) as mailboxes_flagged
from volume_anomalies
group by 1, 2
order by 1, 2
limit 10000
