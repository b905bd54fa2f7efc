-- Manager question 5 (README): do we call patients back on time after discharge and answer
-- complaints within a day? Pooled over the whole period: numerators over denominators, never an
-- average of monthly rates.
select
    department_code,
    sum(follow_up_day3_on_time) / nullif(sum(follow_up_day3_eligible), 0) as day3_call_on_time_rate,
    sum(complaints_responded_within_24h) / nullif(sum(complaint_response_n), 0) as complaint_24h_rate,
    sum(complaints) as complaints

from {{ ref('metrics_loyalty_monthly') }}
group by department_code
order by day3_call_on_time_rate
