-- Manager question 2 (README): when in the week do emergency patients wait longest to see a clinician?
-- The ten weekday × arrival-hour cells with the highest p90 door-to-provider; small cells left out.
select
    arrival_weekday_name,
    arrival_hour,
    encounters,
    door_to_provider_p90_min

from {{ ref('metrics_wait_by_arrival_hour') }}
where department_code = 'emergency'
    and not door_to_provider_suppressed
order by door_to_provider_p90_min desc
limit 10
