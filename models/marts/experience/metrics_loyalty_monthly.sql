-- Returns, follow-up calls, complaint handling and online reviews per month × department.
--   returns:    month the index visit ended (departure, else arrival); a window counts only once it
--               has fully elapsed in the data
--   follow-ups: month of the discharge; one unit = one discharge with a call planned for day k whose
--               window k is over in the data. A call whose encounter is not staged (refused by
--               the staging rules, never exported) names no discharge and counts nowhere. Window k
--               is over when its last day lies before the latest call activity in the data (the
--               latest attempt or completion of any call), or when this call was completed inside it
--               (fct_follow_ups.is_window_closed)
--   complaints: month received; only complaints whose 24-hour / 7-working-day window is over
--   reviews:    month posted
-- *_source_delivered: the follow-up / complaint source delivered a record for this month or
-- earlier; without it the cell's rates are NULL (no units) and a KPI reads no_data.
{%- set return_windows = [30, 90, 365] %}
{%- set follow_up_days = [3, 7, 30] %}
with

visits as (

    select * from {{ ref('int_patient_visits_sequenced') }}

),

encounters as (

    select * from {{ ref('fct_encounters') }}

),

follow_ups as (

    select * from {{ ref('fct_follow_ups') }}

),

complaints as (

    select * from {{ ref('fct_complaints') }}

),

reviews_monthly as (

    select * from {{ ref('int_reviews_aggregated') }}

),

visit_monthly as (

    select
        cast(date_trunc('month', {{ to_local_date('visits.visit_ended_at') }}) as date) as month_start_date,
        encounters.department_code,
        count(*) as index_visits,
        {%- for days in return_windows %}
        count(*) filter (where visits.is_return_window_{{ days }}d_closed) as return_{{ days }}d_n,
        count(*) filter (where visits.is_return_window_{{ days }}d_closed and visits.has_return_within_{{ days }}d)
            as returns_{{ days }}d{{ ',' if not loop.last }}
        {%- endfor %}

    from visits
    inner join encounters
        on visits.encounter_id = encounters.encounter_id
    group by all

),

follow_up_discharges as (

    -- one row per discharge × planned day (several call records for one discharge count once)
    select
        encounter_id,
        planned_day,
        department_code,
        cast(date_trunc('month', coalesce(min(discharged_local_date), min(planned_local_date))) as date)
            as month_start_date,
        bool_or(is_window_closed) as is_window_closed,
        bool_or(is_attempted) as is_attempted,
        bool_or(is_completed) as is_reached,
        bool_or(is_completed_on_time) as is_completed_on_time

    from follow_ups
    where has_encounter
    group by encounter_id, planned_day, department_code

),

follow_up_monthly as (

    select
        month_start_date,
        department_code,
        {%- for day in follow_up_days %}
        count(*) filter (where is_window_closed and planned_day = {{ day }}) as follow_up_day{{ day }}_eligible,
        count(*) filter (where is_window_closed and planned_day = {{ day }} and is_attempted)
            as follow_up_day{{ day }}_attempted,
        count(*) filter (where is_window_closed and planned_day = {{ day }} and is_reached)
            as follow_up_day{{ day }}_reached,
        count(*) filter (where is_window_closed and planned_day = {{ day }} and is_completed_on_time)
            as follow_up_day{{ day }}_on_time{{ ',' if not loop.last }}
        {%- endfor %}

    from follow_up_discharges
    where month_start_date is not null
    group by all

),

complaint_monthly as (

    select
        cast(date_trunc('month', received_local_date) as date) as month_start_date,
        department_code,
        count(*) as complaints,
        count(*) filter (where is_response_window_closed) as complaint_response_n,
        count(*) filter (where is_response_window_closed and is_responded_within_24h)
            as complaints_responded_within_24h,
        count(*) filter (where is_resolution_window_closed) as complaint_resolution_n,
        count(*) filter (where is_resolution_window_closed and is_resolved_within_7_working_days)
            as complaints_resolved_within_7wd

    from complaints
    where received_local_date is not null
    group by all

),

source_feeds as (

    -- the first month each source delivered a record for
    select
        (select min(cast(date_trunc('month', coalesce(discharged_local_date, planned_local_date)) as date))
         from follow_ups) as first_follow_up_month_start_date,
        (select min(cast(date_trunc('month', received_local_date) as date)) from complaints)
            as first_complaint_month_start_date

),

cell_keys as (

    select month_start_date, department_code from visit_monthly
    union
    select month_start_date, department_code from follow_up_monthly
    union
    select month_start_date, department_code from complaint_monthly
    union
    select month_start_date, department_code from reviews_monthly

),

joined as (

    select
        month_start_date,
        department_code,
        {%- set counts = ['visit_monthly.index_visits'] %}
        {%- for days in return_windows %}
        {%- do counts.extend(['visit_monthly.return_' ~ days ~ 'd_n', 'visit_monthly.returns_' ~ days ~ 'd']) %}
        {%- endfor %}
        {%- for day in follow_up_days %}
        {%- for measure in ['eligible', 'attempted', 'reached', 'on_time'] %}
        {%- do counts.append('follow_up_monthly.follow_up_day' ~ day ~ '_' ~ measure) %}
        {%- endfor %}
        {%- endfor %}
        {%- do counts.extend(['complaint_monthly.complaints', 'complaint_monthly.complaint_response_n',
                              'complaint_monthly.complaints_responded_within_24h',
                              'complaint_monthly.complaint_resolution_n',
                              'complaint_monthly.complaints_resolved_within_7wd']) %}
        {%- for column in counts %}
        coalesce({{ column }}, 0) as {{ column.split('.')[1] }},
        {%- endfor %}
        coalesce(reviews_monthly.rated_reviews, 0) as reviews,
        reviews_monthly.rating_sum as review_rating_sum,
        coalesce(reviews_monthly.positive_reviews, 0) as positive_reviews,
        coalesce(reviews_monthly.negative_reviews, 0) as negative_reviews,
        coalesce(month_start_date >= source_feeds.first_follow_up_month_start_date, false)
            as follow_up_source_delivered,
        coalesce(month_start_date >= source_feeds.first_complaint_month_start_date, false)
            as complaint_source_delivered

    from cell_keys
    left join visit_monthly using (month_start_date, department_code)
    left join follow_up_monthly using (month_start_date, department_code)
    left join complaint_monthly using (month_start_date, department_code)
    left join reviews_monthly using (month_start_date, department_code)
    cross join source_feeds

),

final as (

    select
        {{ surrogate_key(['month_start_date', 'department_code']) }} as loyalty_monthly_id,
        month_start_date,
        department_code,
        {%- set unit_counts = ['complaint_response_n', 'complaint_resolution_n', 'reviews'] %}
        {%- for days in return_windows %}{% do unit_counts.append('return_' ~ days ~ 'd_n') %}{% endfor %}
        {%- for day in follow_up_days %}{% do unit_counts.append('follow_up_day' ~ day ~ '_eligible') %}{% endfor %}
        {{ any_suppressed(unit_counts) }} as suppressed,
        index_visits,
        {%- for days in return_windows %}
        return_{{ days }}d_n,
        returns_{{ days }}d,
        {{ safe_rate('returns_' ~ days ~ 'd', 'return_' ~ days ~ 'd_n') }} as return_rate_{{ days }}d,
        {{ is_suppressed('return_' ~ days ~ 'd_n') }} as return_rate_{{ days }}d_suppressed,
        {%- endfor %}
        follow_up_source_delivered,
        {%- for day in follow_up_days %}
        follow_up_day{{ day }}_eligible,
        follow_up_day{{ day }}_attempted,
        follow_up_day{{ day }}_reached,
        follow_up_day{{ day }}_on_time,
        {{ safe_rate('follow_up_day' ~ day ~ '_on_time', 'follow_up_day' ~ day ~ '_eligible') }}
            as follow_up_day{{ day }}_on_time_rate,
        {{ safe_rate('follow_up_day' ~ day ~ '_attempted', 'follow_up_day' ~ day ~ '_eligible') }}
            as follow_up_day{{ day }}_attempt_rate,
        {{ safe_rate('follow_up_day' ~ day ~ '_reached', 'follow_up_day' ~ day ~ '_eligible') }}
            as follow_up_day{{ day }}_reach_rate,
        {{ is_suppressed('follow_up_day' ~ day ~ '_eligible') }} as follow_up_day{{ day }}_suppressed,
        {%- endfor %}
        complaint_source_delivered,
        complaints,
        complaint_response_n,
        complaints_responded_within_24h,
        {{ safe_rate('complaints_responded_within_24h', 'complaint_response_n') }} as complaint_response_24h_rate,
        {{ is_suppressed('complaint_response_n') }} as complaint_response_24h_suppressed,
        complaint_resolution_n,
        complaints_resolved_within_7wd,
        {{ safe_rate('complaints_resolved_within_7wd', 'complaint_resolution_n') }} as complaint_resolution_7wd_rate,
        {{ is_suppressed('complaint_resolution_n') }} as complaint_resolution_7wd_suppressed,
        reviews,
        positive_reviews,
        negative_reviews,
        round({{ suppress('review_rating_sum / nullif(reviews, 0)', 'reviews') }}, 2) as mean_review_rating,
        {{ is_suppressed('reviews') }} as review_suppressed

    from joined

)

select * from final
