-- Arrivals by weekday and hour
-- Superset chart arrivals_weekday_hour (heatmap_v2) on dataset arrival_curve.
-- Arrivals per weekday and hour (reporting zone); the mart is per calendar year, so the date filter works by year.
with

arrival_curve as (

    select
        make_date(arrival_curve.calendar_year, 1, 1) as year_start,
        mailboxes.mailbox_name,
        arrival_curve.iso_day_of_week,
        arrival_curve.iso_day_of_week || ' ' || left(trim(arrival_curve.day_name), 3) as weekday,
        arrival_curve.hour_of_day,
        arrival_curve.conversations_received
    from helpscout.arrival_curve
    inner join helpscout.mailboxes on arrival_curve.mailbox_id = mailboxes.mailbox_id

)

select
    hour_of_day,
    weekday,
    sum(conversations_received) as received
from arrival_curve
group by 1, 2
order by 1, 2
limit 10000
