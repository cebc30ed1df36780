-- Days with unusual volume
-- Superset chart alerts_anomalies (table) on dataset volume_anomalies.
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
    date_day,
    mailbox_name,
    direction,
    conversations_received,
    baseline_median,
    lower_bound,
    upper_bound,
    is_complete
from volume_anomalies
order by date_day desc
limit 200
