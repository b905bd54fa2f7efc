-- A complaint never takes more working days to resolve than calendar days (working days are a
-- subset of the days after receipt up to resolution). Out-of-order source dates (resolved before
-- received) are a source problem reported by a warning on fct_complaints.resolved_at.
select
    complaint_id,
    received_local_date,
    resolved_local_date,
    working_days_to_resolution

from {{ ref('fct_complaints') }}
where resolved_local_date is not null
  and working_days_to_resolution > greatest(resolved_local_date - received_local_date, 0)
