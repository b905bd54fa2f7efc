-- Manager question 4 (README): do long waits cost us promoters? NPS of the respondents with the
-- shortest (q1) and the longest (q4) door-to-provider waits, per month and department.
select
    month_start_date,
    department_code,
    nps_wait_q1 as nps_shortest_waits,
    nps_wait_q4 as nps_longest_waits,
    wait_q1_max_min,
    wait_q3_max_min

from {{ ref('metrics_satisfaction_monthly') }}
where not nps_wait_q1_suppressed
    and not nps_wait_q4_suppressed
order by nps_wait_q1 - nps_wait_q4 desc
