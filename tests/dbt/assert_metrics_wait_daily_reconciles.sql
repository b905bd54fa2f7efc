-- metrics_wait_daily counts every visit with an arrival exactly once, and every appointment in the
-- scheduled population starting on or before the last day any source recorded exactly once.
with

metric_totals as (

    select
        sum(encounters) as encounters,
        sum(lwbs_encounters) as lwbs_encounters,
        sum(appointments_scheduled) as appointments_scheduled

    from {{ ref('metrics_wait_daily') }}

),

fact_totals as (

    select
        (select count(*) from {{ ref('fct_encounters') }} where is_visit and arrived_local_date is not null)
            as encounters,
        (select count(*) from {{ ref('fct_encounters') }} where is_visit and is_lwbs and arrived_local_date is not null)
            as lwbs_encounters,
        (select count(*) from {{ ref('fct_appointments') }}
         where is_scheduled
           and start_local_date <= {{ last_recorded_local_date() }})
            as appointments_scheduled

)

select *
from metric_totals
cross join fact_totals as facts
where coalesce(metric_totals.encounters, 0) <> facts.encounters
   or coalesce(metric_totals.lwbs_encounters, 0) <> facts.lwbs_encounters
   or coalesce(metric_totals.appointments_scheduled, 0) <> facts.appointments_scheduled
