-- Small-cell rule across the analyst contract: a row flagged `suppressed` has at least one metric
-- flag set (or a suppressed coverage rate), and a metric whose flag is set is NULL (spot checks on each metrics_* table).
select 'metrics_wait_daily' as model, wait_daily_id as row_id
from {{ ref('metrics_wait_daily') }}
where (door_to_provider_suppressed and door_to_provider_p90_min is not null)
   or (lwbs_suppressed and lwbs_rate is not null)
   or (ed_timeliness_suppressed and ed_timeliness_rate is not null)
   or (suppressed and not (timestamp_source_suppressed or door_to_triage_suppressed or door_to_provider_suppressed
        or los_suppressed or no_show_suppressed or late_cancel_suppressed or booking_lead_time_suppressed
        or seen_within_target_suppressed or ed_timeliness_suppressed
        -- a coverage rate over a small denominator is suppressed too (it has no flag of its own)
        or (door_to_provider_coverage_rate is null and not_lwbs_encounters > 0)
        or (ed_timeliness_coverage_rate is null and ed_visits > 0)))

union all

select 'metrics_satisfaction_monthly', satisfaction_monthly_id
from {{ ref('metrics_satisfaction_monthly') }}
where (nps_suppressed and nps is not null)
   or (overall_suppressed and (overall_top_box_pct is not null or mean_overall_rating is not null))
   or (review_suppressed and mean_review_rating is not null)
   or (communication_composite_suppressed and communication_composite_top_box_pct is not null)

union all

select 'metrics_loyalty_monthly', loyalty_monthly_id
from {{ ref('metrics_loyalty_monthly') }}
where (return_rate_30d_suppressed and return_rate_30d is not null)
   or (follow_up_day3_suppressed and follow_up_day3_on_time_rate is not null)
   or (complaint_resolution_7wd_suppressed and complaint_resolution_7wd_rate is not null)

union all

select 'metrics_cohort_retention', cohort_retention_id
from {{ ref('metrics_cohort_retention') }}
where suppressed and retention_rate is not null

union all

select 'metrics_campaign', campaign_id
from {{ ref('metrics_campaign') }}
where (interaction_rate_suppressed and interaction_rate is not null)
   or (attribution_suppressed and (cost_per_new_patient is not null or roi is not null))

union all

select 'metrics_access_weekly', access_weekly_id
from {{ ref('metrics_access_weekly') }}
where booked_slot_suppressed and booked_slot_rate is not null
