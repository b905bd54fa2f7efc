-- Each monthly KPI per month × department against its target from seeds/kpi_targets.csv.
-- status: met / not_met, or suppressed (small cell) / no_data — a suppressed value is never judged.
{%- set kpis = [
    {'code': 'nps', 'model': 'metrics_satisfaction_monthly', 'flag': 'nps_suppressed'},
    {'code': 'overall_top_box_pct', 'model': 'metrics_satisfaction_monthly', 'flag': 'overall_suppressed'},
    {'code': 'response_rate', 'model': 'metrics_satisfaction_monthly', 'flag': 'response_rate_suppressed'},
    {'code': 'follow_up_day3_completion_rate', 'model': 'metrics_loyalty_monthly', 'flag': 'follow_up_day3_suppressed'},
    {'code': 'follow_up_day7_completion_rate', 'model': 'metrics_loyalty_monthly', 'flag': 'follow_up_day7_suppressed'},
    {'code': 'follow_up_day30_completion_rate', 'model': 'metrics_loyalty_monthly', 'flag': 'follow_up_day30_suppressed'},
    {'code': 'complaint_response_24h_rate', 'model': 'metrics_loyalty_monthly', 'flag': 'complaint_response_24h_suppressed'},
] %}
with

satisfaction as (

    select * from {{ ref('metrics_satisfaction_monthly') }}

),

loyalty as (

    select * from {{ ref('metrics_loyalty_monthly') }}

),

kpi_targets as (

    select * from {{ ref('kpi_targets') }}

),

kpi_values as (

    {%- for kpi in kpis %}
    select
        month_start_date,
        department_code,
        '{{ kpi.code }}' as kpi_code,
        cast({{ kpi.code }} as double) as kpi_value,
        {{ kpi.flag }} as is_suppressed

    from {{ 'satisfaction' if kpi.model == 'metrics_satisfaction_monthly' else 'loyalty' }}
    {{ 'union all' if not loop.last }}
    {%- endfor %}

),

final as (

    select
        {{ surrogate_key(['kpi_values.month_start_date', 'kpi_values.department_code', 'kpi_values.kpi_code']) }}
            as kpi_status_id,
        kpi_values.month_start_date,
        kpi_values.department_code,
        kpi_values.kpi_code,
        kpi_targets.description as kpi_description,
        kpi_targets.unit,
        kpi_targets.direction,
        kpi_values.kpi_value,
        kpi_targets.target_value,
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
            when (kpi_targets.direction = 'higher_is_better' and kpi_values.kpi_value >= kpi_targets.target_value)
              or (kpi_targets.direction = 'lower_is_better' and kpi_values.kpi_value <= kpi_targets.target_value)
                then 'met'
            else 'not_met'
        end as kpi_status

    from kpi_values
    inner join kpi_targets
        on kpi_values.kpi_code = kpi_targets.kpi_code

)

select * from final
