-- Returns, follow-up completion and complaint responsiveness per month × department.
--   returns:    month of the index visit; a window counts only once it has fully elapsed in the data
--   follow-ups: month the call was planned; only calls already due when the data ends
--   complaints: month received; only complaints whose 24-hour window is over
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

visit_monthly as (

    select
        cast(date_trunc('month', encounters.arrived_local_date) as date) as month_start_date,
        encounters.department_code,
        count(*) as index_visits,
        {%- for days in [30, 90, 365] %}
        count(*) filter (where visits.is_return_window_{{ days }}d_closed) as return_{{ days }}d_n,
        count(*) filter (where visits.is_return_window_{{ days }}d_closed and visits.has_return_within_{{ days }}d)
            as returns_{{ days }}d{{ ',' if not loop.last }}
        {%- endfor %}

    from visits
    inner join encounters
        on visits.encounter_id = encounters.encounter_id
    group by all

),

follow_up_monthly as (

    select
        cast(date_trunc('month', planned_local_date) as date) as month_start_date,
        department_code,
        {%- for day in [3, 7, 30] %}
        count(*) filter (where is_due and planned_day = {{ day }}) as follow_up_day{{ day }}_due,
        count(*) filter (where is_due and planned_day = {{ day }} and is_completed)
            as follow_up_day{{ day }}_completed{{ ',' if not loop.last }}
        {%- endfor %}

    from follow_ups
    where planned_local_date is not null
    group by all

),

complaint_monthly as (

    select
        cast(date_trunc('month', received_local_date) as date) as month_start_date,
        department_code,
        count(*) as complaints,
        count(*) filter (where is_response_window_closed) as complaint_response_n,
        count(*) filter (where is_response_window_closed and is_responded_within_24h)
            as complaints_responded_within_24h

    from complaints
    where received_local_date is not null
    group by all

),

keys as (

    select month_start_date, department_code from visit_monthly
    union
    select month_start_date, department_code from follow_up_monthly
    union
    select month_start_date, department_code from complaint_monthly

),

joined as (

    select
        keys.month_start_date,
        keys.department_code,
        coalesce(visit_monthly.index_visits, 0) as index_visits,
        {%- for days in [30, 90, 365] %}
        coalesce(visit_monthly.return_{{ days }}d_n, 0) as return_{{ days }}d_n,
        coalesce(visit_monthly.returns_{{ days }}d, 0) as returns_{{ days }}d,
        {%- endfor %}
        {%- for day in [3, 7, 30] %}
        coalesce(follow_up_monthly.follow_up_day{{ day }}_due, 0) as follow_up_day{{ day }}_due,
        coalesce(follow_up_monthly.follow_up_day{{ day }}_completed, 0) as follow_up_day{{ day }}_completed,
        {%- endfor %}
        coalesce(complaint_monthly.complaints, 0) as complaints,
        coalesce(complaint_monthly.complaint_response_n, 0) as complaint_response_n,
        coalesce(complaint_monthly.complaints_responded_within_24h, 0) as complaints_responded_within_24h

    from keys
    left join visit_monthly
        on keys.month_start_date = visit_monthly.month_start_date
        and keys.department_code = visit_monthly.department_code
    left join follow_up_monthly
        on keys.month_start_date = follow_up_monthly.month_start_date
        and keys.department_code = follow_up_monthly.department_code
    left join complaint_monthly
        on keys.month_start_date = complaint_monthly.month_start_date
        and keys.department_code = complaint_monthly.department_code

),

final as (

    select
        {{ surrogate_key(['month_start_date', 'department_code']) }} as loyalty_monthly_id,
        month_start_date,
        department_code,
        index_visits,
        {%- for days in [30, 90, 365] %}
        return_{{ days }}d_n,
        returns_{{ days }}d,
        {{ safe_rate('returns_' ~ days ~ 'd', 'return_' ~ days ~ 'd_n') }} as return_rate_{{ days }}d,
        {{ is_suppressed('return_' ~ days ~ 'd_n') }} as return_rate_{{ days }}d_suppressed,
        {%- endfor %}
        {%- for day in [3, 7, 30] %}
        follow_up_day{{ day }}_due,
        follow_up_day{{ day }}_completed,
        {{ safe_rate('follow_up_day' ~ day ~ '_completed', 'follow_up_day' ~ day ~ '_due') }}
            as follow_up_day{{ day }}_completion_rate,
        {{ is_suppressed('follow_up_day' ~ day ~ '_due') }} as follow_up_day{{ day }}_suppressed,
        {%- endfor %}
        complaints,
        complaint_response_n,
        complaints_responded_within_24h,
        {{ safe_rate('complaints_responded_within_24h', 'complaint_response_n') }} as complaint_response_24h_rate,
        {{ is_suppressed('complaint_response_n') }} as complaint_response_24h_suppressed

    from joined

)

select * from final
