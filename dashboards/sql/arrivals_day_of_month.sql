-- Arrivals by day of the month
-- Superset chart arrivals_day_of_month (echarts_timeseries_bar) on dataset arrival_day_of_month.
-- Arrivals per day of the month; per calendar year.
with

arrival_day_of_month as (

    select
        make_date(arrival_day_of_month.calendar_year, 1, 1) as year_start,
        mailboxes.mailbox_name,
        arrival_day_of_month.day_of_month,
        arrival_day_of_month.months_with_day,
        arrival_day_of_month.conversations_received
    from helpscout.arrival_day_of_month
    inner join helpscout.mailboxes on arrival_day_of_month.mailbox_id = mailboxes.mailbox_id

)

select
    day_of_month as day_of_month,
    mailbox_name,
    sum(conversations_received) as received
from arrival_day_of_month
group by 1, 2
order by 1, 2
limit 10000
