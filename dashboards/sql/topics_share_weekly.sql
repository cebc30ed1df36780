-- Share of the week's conversations per tag (top 10 tags)
-- Superset chart topics_share_weekly (echarts_timeseries_line) on dataset tag_weekly.
-- Conversations per tag and week, and their share of the account's week.
with

tag_weekly as (

    select
        week_start,
        coalesce(tag_name, '(tag ' || tag_id || ')') as tag_name,
        conversations_received,
        share_of_received
    from helpscout.tag_weekly

)

select
    date_trunc('week', week_start)::date as week_start,
    tag_name,
    max(share_of_received) as share_of_received
from tag_weekly
group by 1, 2
order by 1, 2
limit 10000
