-- Each monthly KPI per month × department against its target from seeds/kpi_targets.csv.
-- status: on_track (meets the target), at_risk (misses it but is within the seed's at_risk_value),
-- off_track (beyond at_risk_value), suppressed (a small cell: never judged) or no_data, with
-- no_data_reason: source_not_delivered (the KPI's source had delivered nothing for the month or
-- before it: a feed the hospital does not send is never scored as 0 / off_track) or no_units (the
-- source delivered, but no unit of the cell had the evidence).
{%- set kpis = [
    {'code': 'nps', 'source': 'satisfaction', 'flag': 'nps_suppressed', 'delivered': 'survey_source_delivered'},
    {'code': 'overall_top_box_pct', 'source': 'satisfaction', 'flag': 'overall_suppressed',
     'delivered': 'survey_source_delivered'},
    {'code': 'response_rate', 'source': 'satisfaction', 'flag': 'response_rate_suppressed',
     'delivered': 'survey_source_delivered'},
    {'code': 'ed_door_to_provider_p90_min', 'source': 'ed_waits_monthly', 'flag': 'door_to_provider_suppressed',
     'delivered': 'true'},
    {'code': 'follow_up_day3_on_time_rate', 'source': 'loyalty', 'flag': 'follow_up_day3_suppressed',
     'delivered': 'follow_up_source_delivered'},
    {'code': 'follow_up_day7_on_time_rate', 'source': 'loyalty', 'flag': 'follow_up_day7_suppressed',
     'delivered': 'follow_up_source_delivered'},
    {'code': 'follow_up_day30_on_time_rate', 'source': 'loyalty', 'flag': 'follow_up_day30_suppressed',
     'delivered': 'follow_up_source_delivered'},
    {'code': 'complaint_response_24h_rate', 'source': 'loyalty', 'flag': 'complaint_response_24h_suppressed',
     'delivered': 'complaint_source_delivered'},
    {'code': 'complaint_resolution_7wd_rate', 'source': 'loyalty', 'flag': 'complaint_resolution_7wd_suppressed',
     'delivered': 'complaint_source_delivered'},
] %}
with

satisfaction as (

    select * from {{ ref('metrics_satisfaction_monthly') }}

),

loyalty as (

    select * from {{ ref('metrics_loyalty_monthly') }}

),

encounters as (

    select * from {{ ref('fct_encounters') }}

),

kpi_targets as (

    select * from {{ ref('kpi_targets') }}

),

ed_waits_monthly as (

    -- the month's p90 door-to-provider of ED visits (LWBS excluded), from the encounters themselves:
    -- a monthly percentile cannot be rebuilt from daily ones
    select
        cast(date_trunc('month', arrived_local_date) as date) as month_start_date,
        department_code,
        round({{ suppress('quantile_cont(door_to_provider_min, 0.9)', 'count(door_to_provider_min)') }}, 2)
            as ed_door_to_provider_p90_min,
        {{ is_suppressed('count(door_to_provider_min)') }} as door_to_provider_suppressed

    from encounters
    where is_visit
      and encounter_class = 'EMER'
      and is_lwbs is not true
      and door_to_provider_min is not null
      and arrived_local_date is not null
    group by all

),

kpi_values as (

    {%- for kpi in kpis %}
    select
        month_start_date,
        department_code,
        '{{ kpi.code }}' as kpi_code,
        cast({{ kpi.code }} as double) as kpi_value,
        {{ kpi.flag }} as is_suppressed,
        {{ kpi.delivered }} as is_source_delivered

    from {{ kpi.source }}
    {{ 'union all' if not loop.last }}
    {%- endfor %}

),

final as (

    select
        {{ surrogate_key(['kpi_values.month_start_date', 'kpi_values.department_code', 'kpi_values.kpi_code']) }}
            as kpi_status_id,
        kpi_values.month_start_date,
        'month' as period_grain,
        kpi_values.month_start_date as period_start_date,
        last_day(kpi_values.month_start_date) as period_end_date,
        kpi_values.department_code,
        kpi_values.kpi_code,
        kpi_targets.metric_model,
        kpi_targets.description as kpi_description,
        kpi_targets.unit,
        kpi_targets.direction,
        kpi_values.kpi_value,
        kpi_targets.target_value,
        kpi_targets.at_risk_value,
        kpi_values.is_suppressed as suppressed,
        case
            when kpi_values.kpi_value is not null then
                case kpi_targets.direction
                    when 'higher_is_better' then kpi_values.kpi_value >= kpi_targets.target_value
                    when 'lower_is_better' then kpi_values.kpi_value <= kpi_targets.target_value
                end
        end as is_target_met,
        case
            when kpi_values.kpi_value is null and kpi_values.is_suppressed then 'suppressed'
            when kpi_values.kpi_value is null then 'no_data'
            when kpi_targets.direction = 'higher_is_better' then
                case
                    when kpi_values.kpi_value >= kpi_targets.target_value then 'on_track'
                    when kpi_values.kpi_value >= kpi_targets.at_risk_value then 'at_risk'
                    else 'off_track'
                end
            when kpi_targets.direction = 'lower_is_better' then
                case
                    when kpi_values.kpi_value <= kpi_targets.target_value then 'on_track'
                    when kpi_values.kpi_value <= kpi_targets.at_risk_value then 'at_risk'
                    else 'off_track'
                end
        end as kpi_status,
        case
            when kpi_values.kpi_value is not null or kpi_values.is_suppressed then null
            when not kpi_values.is_source_delivered then 'source_not_delivered'
            else 'no_units'
        end as no_data_reason

    from kpi_values
    inner join kpi_targets
        on kpi_values.kpi_code = kpi_targets.kpi_code

)

select * from final
