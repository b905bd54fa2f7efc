-- One row per encounter (latest version): derived timestamps and waits, LWBS, visit sequence and the
-- primary survey answers.
with

encounters as (

    select * from {{ ref('int_encounter_waits_derived') }}

),

visits as (

    select * from {{ ref('int_patient_visits_sequenced') }}

),

appointments as (

    select * from {{ ref('stg_ehr__appointments') }}

),

survey_responses as (

    select * from {{ ref('fct_survey_responses') }}

),

departments as (

    select * from {{ ref('dim_department') }}

),

wait_targets as (

    select * from {{ ref('wait_targets') }}

),

primary_responses as (

    select *
    from survey_responses
    where is_primary_response

),

joined as (

    select
        encounters.*,
        coalesce(departments.department_code, 'unknown') as mart_department_code,
        appointments.booked_at as appointment_booked_at,
        appointments.start_at as appointment_start_at,
        visits.visit_number,
        visits.is_first_visit,
        wait_targets.door_to_provider_target_min,
        primary_responses.response_id,
        primary_responses.nps_score,
        primary_responses.overall_rating,
        primary_responses.nurse_communication,
        primary_responses.doctor_communication,
        primary_responses.responsiveness,
        primary_responses.cleanliness,
        primary_responses.quietness,
        primary_responses.discharge_information

    from encounters
    left join departments
        on encounters.department_code = departments.department_code
    left join appointments
        on encounters.appointment_id = appointments.appointment_id
    left join visits
        on encounters.encounter_id = visits.encounter_id
    left join wait_targets
        on coalesce(departments.department_code, 'unknown') = wait_targets.department_code
        and encounters.encounter_class = wait_targets.encounter_class
    left join primary_responses
        on encounters.encounter_id = primary_responses.encounter_id

),

measured as (

    select
        *,
        {{ minutes_between('arrived_at', 'triaged_at') }} as door_to_triage_min,
        {{ minutes_between('arrived_at', 'provider_seen_at') }} as door_to_provider_min,
        {{ minutes_between('arrived_at', 'departed_at') }} as door_to_departure_min,
        {{ hours_between('arrived_at', 'departed_at') }} as length_of_stay_hours,
        {{ days_between('appointment_booked_at', 'coalesce(appointment_start_at, arrived_at)') }}
            as booking_lead_time_days

    from joined

),

final as (

    select
        encounter_id,
        coalesce(patient_key, 'unknown') as patient_key,
        mart_department_code as department_code,
        encounter_class,
        encounter_status,
        appointment_id,
        discharge_disposition_code,
        is_visit,
        is_lwbs,
        coalesce(is_first_visit, false) as is_first_visit,
        visit_number,
        arrived_at,
        arrived_source,
        triaged_at,
        triaged_source,
        provider_seen_at,
        provider_seen_source,
        departed_at,
        departed_source,
        timestamp_source,
        {{ to_local_date('arrived_at') }} as arrived_local_date,
        {{ to_local_date('departed_at') }} as departed_local_date,
        appointment_booked_at,
        booking_lead_time_days,
        door_to_triage_min,
        door_to_provider_min,
        door_to_departure_min,
        length_of_stay_hours,
        door_to_provider_target_min,
        case
            when is_lwbs or door_to_provider_min is null or door_to_provider_target_min is null then null
            else door_to_provider_min <= door_to_provider_target_min
        end as is_seen_within_target,
        response_id as survey_response_id,
        nps_score,
        overall_rating,
        nurse_communication,
        doctor_communication,
        responsiveness,
        cleanliness,
        quietness,
        discharge_information

    from measured

)

select * from final
