-- Subject waves (mass mailings)
-- Superset chart mailings_subject_waves (table) on dataset subject_waves.
-- Mass-mailing waves: many conversations sharing a normalized subject in a month.
with

subject_waves as (

    select
        month_start,
        subject_normalized,
        conversations_received,
        mailbox_count,
        first_arrival_at,
        last_arrival_at,
        round(wave_span_minutes / 60.0, 1) as wave_span_hours
    from helpscout.subject_waves

)

select
    month_start,
    subject_normalized,
    conversations_received,
    mailbox_count,
    first_arrival_at,
    wave_span_hours
from subject_waves
order by conversations_received desc
limit 100
