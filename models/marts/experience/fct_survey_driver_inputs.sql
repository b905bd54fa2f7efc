-- The driver analysis' inputs: one row per visit with a primary survey response, its outcomes
-- (NPS score, overall top-box), the HCAHPS-style items scored 1-4 and the operational drivers.
-- journey.report.drivers fits the models on it; the patient key stays inside this model.
{%- set hcahps_items = hcahps_items() %}
with

encounters as (

    select * from {{ ref('fct_encounters') }}

),

appointments as (

    select * from {{ ref('fct_appointments') }}

),

surveyed as (

    select *
    from encounters
    where is_visit
        and survey_response_id is not null
        and (nps_score is not null or overall_rating is not null)

),

no_shows as (

    -- the patient's no-shows before this arrival
    select
        surveyed.encounter_id,
        count(appointments.appointment_id) as prior_no_shows

    from surveyed
    left join appointments
        on surveyed.patient_key = appointments.patient_key
        and appointments.is_no_show
        and appointments.start_at < surveyed.arrived_at
    group by surveyed.encounter_id

),

final as (

    select
        surveyed.survey_response_id as response_id,
        surveyed.encounter_id,
        surveyed.department_code,
        surveyed.arrived_local_date as visit_local_date,
        cast(year(surveyed.arrived_local_date) as varchar)
            || 'Q' || cast(quarter(surveyed.arrived_local_date) as varchar) as visit_quarter,
        surveyed.nps_score,
        case when surveyed.overall_rating is not null then surveyed.overall_rating >= 9 end as is_overall_top_box,
        {%- for item in hcahps_items %}
        case surveyed.{{ item }}
            when 'never' then 1 when 'sometimes' then 2 when 'usually' then 3 when 'always' then 4
        end as {{ item }}_score,
        {%- endfor %}
        surveyed.door_to_provider_min,
        surveyed.length_of_stay_hours,
        surveyed.booking_lead_time_days,
        no_shows.prior_no_shows

    from surveyed
    inner join no_shows
        on surveyed.encounter_id = no_shows.encounter_id

)

select * from final
