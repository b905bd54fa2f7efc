-- Manager question 3 (README): is NPS falling anywhere? Month-on-month change per department.
select
    department_code,
    month_start_date,
    nps,
    nps - lag(nps) over (partition by department_code order by month_start_date) as change_vs_last_month

from {{ ref('metrics_satisfaction_monthly') }}
where not nps_suppressed
order by department_code, month_start_date
