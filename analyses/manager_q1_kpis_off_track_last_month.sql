-- Manager question 1 (README): which KPIs missed their target last month, and by how much?
-- The latest month with any judged KPI; kpi_value against target_value, off_track cells only.
select
    department_code,
    kpi_code,
    kpi_value,
    target_value,
    unit,
    kpi_status

from {{ ref('metrics_kpi_status') }}
where month_start_date = (
        select max(month_start_date) from {{ ref('metrics_kpi_status') }} where kpi_status <> 'no_data'
    )
    and kpi_status = 'off_track'
order by department_code, kpi_code
