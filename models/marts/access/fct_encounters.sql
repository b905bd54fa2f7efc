-- One row per encounter (latest version): derived timestamps and waits, LWBS, CMS ED-timeliness
-- components, visit sequence, the age band at the visit and the primary survey answers. Waits are
-- exact (never rounded per visit: the metric tables round once, at publication); a wait, flag or
-- component the export holds no evidence for is NULL and its *_reason column says why.
--
-- Incremental (delete+insert on encounter_id). Each run rebuilds every encounter of each patient who
-- has an encounter that
--   * arrived within var('late_lookback_days') days of the latest arrival already built, or
--   * is not built yet, or
--   * has an input (encounter version, fulfilled appointment, any survey response, the patient's
--     Patient resource) loaded after the
--     latest source_loaded_at already built — a survey or re-export arriving weeks late included, or
--   * was built from an input that has gone since (a re-delivered file without that survey or
--     appointment, or without another visit of the patient): its primary response, booking time or
--     visit number differs from what the inputs give now,
-- and the post-hook deletes encounters no longer in the inputs (a re-delivered Encounter file
-- without them). The whole patient is rebuilt because visit_number / is_first_visit depend on the
-- patient's other visits. Also rebuilt: the encounters at a Location re-exported since (its role
-- decides derived times), read from the change feed (macros/change_feed.sql), and every encounter
-- when a staging input was built in full (a staging definition change). Seed edits (departments,
-- wait targets) need `--full-refresh`.
{{ config(
    materialized='incremental',
    unique_key='encounter_id',
    incremental_strategy='delete+insert',
    on_schema_change='sync_all_columns',
    post_hook=[
        "{% if is_incremental() %}delete from {{ this }} where encounter_id not in (select encounter_id from {{ ref('int_encounter_waits_derived') }}){% endif %}",
        "{{ change_feed_commit(fct_encounter_producers()) }}"
    ]
) }}
-- depends_on: {{ ref('stg_ehr__encounter_locations') }}
{%- set changed_only = is_incremental_with('source_loaded_at') and not change_feed_needs_full(fct_encounter_producers()) %}
{%- set stay_max_hours = "case when encounter_class = 'IMP' then null else " ~ var('max_wait_hours') ~ " end" %}
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

patients as (

    select * from {{ ref('stg_ehr__patients') }}

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

response_loads as (

    select encounter_id, max(_loaded_at) as responses_loaded_at
    from {{ ref('stg_ehr__questionnaire_responses') }}
    where encounter_id is not null
    group by encounter_id

),

inputs_loaded as (

    select
        encounters.encounter_id,
        encounters.patient_key,
        encounters.arrived_at,
        appointments.booked_at as appointment_booked_at,
        patients.birth_year,
        greatest(encounters.source_loaded_at, appointments._loaded_at, response_loads.responses_loaded_at,
                 patients._loaded_at)
            as source_loaded_at

    from encounters
    left join appointments
        on encounters.appointment_id = appointments.appointment_id
    left join response_loads
        on encounters.encounter_id = response_loads.encounter_id
    left join patients
        on encounters.patient_key = patients.patient_key

),

{% if changed_only -%}
built as (

    {{ incremental_bounds('arrived_local_date') }}

),

changed_encounters as (

    select inputs_loaded.encounter_id, inputs_loaded.patient_key
    from inputs_loaded
    cross join built
    left join {{ this }} as existing
        on inputs_loaded.encounter_id = existing.encounter_id
    left join visits
        on inputs_loaded.encounter_id = visits.encounter_id
    left join primary_responses
        on inputs_loaded.encounter_id = primary_responses.encounter_id
    where existing.encounter_id is null
       or inputs_loaded.source_loaded_at > built.max_source_loaded_at
       or {{ to_local_date('inputs_loaded.arrived_at') }}
            >= built.max_event_date - interval {{ var('late_lookback_days') }} day
       -- an input removed by a re-delivery leaves no newer load stamp behind: compare instead
       or existing.visit_number is distinct from visits.visit_number
       or existing.survey_response_id is distinct from primary_responses.response_id
       or existing.appointment_booked_at is distinct from inputs_loaded.appointment_booked_at
       or inputs_loaded.encounter_id in ({{ encounters_at_changed_locations() }})

),

in_scope as (

    select encounter_id from changed_encounters
    union
    select inputs_loaded.encounter_id
    from inputs_loaded
    inner join changed_encounters
        on inputs_loaded.patient_key = changed_encounters.patient_key

),
{%- else -%}
in_scope as (

    select encounter_id from inputs_loaded

),
{%- endif %}

joined as (

    select
        encounters.* exclude (source_loaded_at),
        inputs_loaded.source_loaded_at,
        inputs_loaded.birth_year,
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
    inner join in_scope
        on encounters.encounter_id = in_scope.encounter_id
    inner join inputs_loaded
        on encounters.encounter_id = inputs_loaded.encounter_id
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
        -- waits and stays out of order or beyond var('max_wait_hours') are NULL (not a wait);
        -- inpatient stays last days, so their length of stay has no upper bound
        {{ plausible_minutes('arrived_at', 'triaged_at') }} as door_to_triage_min,
        {{ plausible_minutes('arrived_at', 'provider_seen_at') }} as door_to_provider_min,
        {{ plausible_minutes('arrived_at', 'departed_at', stay_max_hours) }} as door_to_departure_min,
        {{ plausible_hours('arrived_at', 'departed_at', stay_max_hours) }} as length_of_stay_hours,
        {{ plausible_minutes('arrived_at', 'treatment_room_at') }} as door_to_treatment_room_min,
        {{ days_between('appointment_booked_at', 'coalesce(appointment_start_at, arrived_at)') }}
            as booking_lead_time_days,
        -- age in whole years at this visit (year difference: the loader keeps only the birth year)
        extract(year from {{ to_local('arrived_at') }}) - birth_year as age_at_arrival_years

    from joined

),

explained as (

    select
        *,
        -- why a wait is NULL (NULL when it is known)
        {{ wait_reason('door_to_triage_min', 'triaged_at', 'no_triage_time') }} as door_to_triage_reason,
        {{ wait_reason('door_to_provider_min', 'provider_seen_at', 'no_provider_time') }} as door_to_provider_reason,
        {{ wait_reason('door_to_treatment_room_min', 'treatment_room_at', 'no_treatment_room_time') }}
            as door_to_treatment_room_reason,
        {{ wait_reason('door_to_departure_min', 'departed_at', 'no_departure_time', lwbs_explains=false) }} as door_to_departure_reason,
        -- the CMS ED-timeliness components, ED visits only: NULL when the export holds no evidence
        case
            when encounter_class = 'EMER' and is_visit then door_to_treatment_room_min > 60
        end as treatment_room_wait_over_60min,
        case
            when encounter_class = 'EMER' and is_visit then door_to_departure_min > 480
        end as ed_stay_over_480min

    from measured

),

timeliness as (

    select
        *,
        -- an event when any known component is one; not an event only when every component is known
        -- (boarding excepted: the contract holds no decision-to-admit time); else NULL
        case
            when encounter_class = 'EMER' and is_visit then
                case
                    when is_lwbs or treatment_room_wait_over_60min or ed_stay_over_480min then true
                    when is_lwbs is not null and treatment_room_wait_over_60min is not null
                        and ed_stay_over_480min is not null then false
                end
        end as ed_timeliness_event,
        case
            when encounter_class is null then 'class_unknown'
            when encounter_class <> 'EMER' or not is_visit then 'not_emergency_visit'
            when is_lwbs or treatment_room_wait_over_60min or ed_stay_over_480min then null
            when is_lwbs is null then 'no_lwbs_evidence'
            when treatment_room_wait_over_60min is null then 'no_treatment_room_time'
            when ed_stay_over_480min is null then 'no_departure_time'
        end as ed_timeliness_reason,
        case
            when birth_year is null then null
            when age_at_arrival_years < 0 then null
            when age_at_arrival_years < 18 then '0-17'
            when age_at_arrival_years < 35 then '18-34'
            when age_at_arrival_years < 50 then '35-49'
            when age_at_arrival_years < 65 then '50-64'
            when age_at_arrival_years < 80 then '65-79'
            else '80+'
        end as visit_age_band,
        case
            when patient_key is null or patient_key = 'unknown' then 'no_patient'
            when birth_year is null then 'no_birth_year'
            when arrived_at is null then 'no_arrival_time'
            when age_at_arrival_years < 0 then 'birth_after_visit'
        end as visit_age_band_reason

    from explained

),

final as (

    select
        encounter_id,
        coalesce(patient_key, 'unknown') as patient_key,
        mart_department_code as department_code,
        encounter_class,
        encounter_class_null_reason,
        encounter_status,
        appointment_id,
        discharge_disposition_code,
        is_visit,
        is_lwbs,
        lwbs_reason,
        has_tracking_evidence,
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
        door_to_triage_reason,
        door_to_provider_min,
        door_to_provider_reason,
        door_to_departure_min,
        door_to_departure_reason,
        length_of_stay_hours,
        door_to_provider_target_min,
        case
            when is_lwbs is not false or door_to_provider_min is null or door_to_provider_target_min is null then null
            else door_to_provider_min <= door_to_provider_target_min
        end as is_seen_within_target,
        treatment_room_at,
        door_to_treatment_room_min,
        door_to_treatment_room_reason,
        -- CMS Emergency Care Access & Timeliness (CMS1244) numerator components, ED visits only,
        -- NULL without the evidence. Boarding (decision to admit → ED departure) needs a
        -- decision-to-admit time the source contract does not carry: that component is NULL and not
        -- counted.
        treatment_room_wait_over_60min as is_treatment_room_wait_over_60min,
        cast(null as boolean) as is_ed_boarding_over_240min,
        ed_stay_over_480min as is_ed_stay_over_480min,
        ed_timeliness_event as is_ed_timeliness_event,
        ed_timeliness_reason,
        age_at_arrival_years,
        visit_age_band,
        visit_age_band_reason,
        response_id as survey_response_id,
        nps_score,
        overall_rating,
        nurse_communication,
        doctor_communication,
        responsiveness,
        cleanliness,
        quietness,
        discharge_information,
        source_loaded_at

    from timeliness

)

select * from final
