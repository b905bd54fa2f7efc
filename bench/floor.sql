-- The floor's metrics: journey's core metrics from three landed relations, `landed_encounters`,
-- `landed_locations` and `landed_questionnaire_responses` (one row per landed resource, the columns of
-- bench/floor_read.sql plus `filename`). No orchestration, no checks, no lineage, no intermediate tables
-- kept: the least work a DuckDB engineer would do to get the same numbers.
--
-- Two floors define those relations, then run this file (bench/run.py does both through the Python client):
--   the floor       bench/floor_read.sql: views straight over the landing files, only the JSON fields the
--                   metrics need parsed (explicit `columns`): the main reason it is fast;
--   the fair floor  bench/fair_floor.py + fair_floor.sql: every landed row loaded into the DuckDB file
--                   first (typed, keyed, checkpointed), then views over those tables.
-- By hand, with relative paths resolved against the landing root:
--   cat bench/floor_read.sql bench/floor.sql | duckdb out.duckdb -cmd "set file_search_path = 'LANDING'"
--
-- Definitions mirror the dbt models as of this commit (data/README.md "Encounter";
-- int_encounter_waits_derived, fct_encounters, fct_survey_responses, int_patient_visits_sequenced,
-- metrics_wait_daily, metrics_satisfaction_monthly, metrics_loyalty_monthly).

set TimeZone = 'Asia/Shanghai';  -- naive timestamps are hospital-local; ::date gives the local date

create or replace temp table departments as
select * from (values
    ('emergency'), ('internal_medicine'), ('surgery'), ('pediatrics'), ('obstetrics'),
    ('cardiology'), ('orthopedics'), ('dermatology'), ('ophthalmology'), ('oncology')
) as known (department_code);

-- Encounters: latest version of each (meta.lastUpdated, then the later drop / file)
create or replace temp table encounters as
with

landed as (

    select *
    from landed_encounters
    where id is not null
    qualify row_number() over (
        partition by id order by meta.lastUpdated::timestamptz desc nulls last, filename desc
    ) = 1

)

select
    id as encounter_id,
    nullif(regexp_extract(subject.reference, '(?:^|/)Patient/([^/]+)', 1), '') as patient_key,
    lower(status) as encounter_status,
    upper(class.code) as encounter_class,
    nullif(trim(serviceType.coding[1].code), '') as department_code,
    nullif(trim(hospitalization.dischargeDisposition.coding[1].code), '') as discharge_disposition_code,
    try_cast(trim(period.start) as timestamptz) as period_start_at,
    try_cast(trim(period."end") as timestamptz) as period_end_at,
    statusHistory as status_history,
    location as locations
from landed;

create or replace temp table location_roles as
select
    id as location_id,
    lower(list_filter(
        flatten(list_transform(type, t -> t.coding)),
        coding -> coding.system = 'https://journey.example/fhir/CodeSystem/location-role'
    )[1].code) as location_role_code
from landed_locations
where id is not null
qualify row_number() over (partition by id order by meta.lastUpdated::timestamptz desc nulls last, filename desc) = 1;

-- One row per encounter: arrival, provider seen, departure; waits; LWBS; is_visit
create or replace temp table encounter_waits as
with

status_times as (

    select
        encounter_id,
        min(try_cast(trim(element.period.start) as timestamptz))
            filter (where lower(element.status) = 'arrived') as arrived_status_at,
        min(try_cast(trim(element.period.start) as timestamptz))
            filter (where lower(element.status) = 'in-progress') as in_progress_status_at,
        min(try_cast(trim(element.period.start) as timestamptz))
            filter (where lower(element.status) = 'finished') as finished_status_at
    from (select encounter_id, unnest(status_history) as element from encounters)
    group by encounter_id

),

location_elements as (

    select
        encounter_id,
        try_cast(trim(element.period.start) as timestamptz) as period_start_at,
        try_cast(trim(element.period."end") as timestamptz) as period_end_at,
        nullif(regexp_extract(element.location.reference, '(?:^|/)Location/([^/]+)', 1), '') as location_id,
        nullif(trim(element.location.display), '') as location_display
    from (select encounter_id, unnest(locations) as element from encounters)

),

location_times as (

    select
        location_elements.encounter_id,
        min(location_elements.period_start_at) as first_location_start_at,
        min(location_elements.period_start_at) filter (where
            case
                when location_roles.location_role_code in ('waiting-room', 'triage', 'treatment-room')
                    then location_roles.location_role_code
                when lower(concat_ws(' ', location_elements.location_id, location_elements.location_display))
                    like '%wait%' then 'waiting-room'
                when lower(concat_ws(' ', location_elements.location_id, location_elements.location_display))
                    like '%triag%' then 'triage'
                when regexp_matches(
                    lower(concat_ws(' ', location_elements.location_id, location_elements.location_display)),
                    'treat|room|bay') then 'treatment-room'
            end = 'treatment-room'
        ) as treatment_location_start_at,
        -- the end of the location that started last (ties and NULL starts: see bench/README.md)
        arg_max(location_elements.period_end_at, location_elements.period_start_at) as last_location_end_at
    from location_elements
    left join location_roles on location_elements.location_id = location_roles.location_id
    group by location_elements.encounter_id

),

derived as (

    select
        encounters.encounter_id,
        encounters.patient_key,
        coalesce(departments.department_code, 'unknown') as department_code,
        encounters.encounter_class,
        encounters.encounter_status,
        encounters.discharge_disposition_code,
        case
            when status_times.arrived_status_at is not null
                and (location_times.first_location_start_at is null
                     or status_times.arrived_status_at <= location_times.first_location_start_at)
                then status_times.arrived_status_at
            when location_times.first_location_start_at is not null then location_times.first_location_start_at
            else encounters.period_start_at
        end as arrived_at,
        coalesce(status_times.in_progress_status_at, location_times.treatment_location_start_at) as provider_seen_at,
        coalesce(status_times.finished_status_at, location_times.last_location_end_at, encounters.period_end_at)
            as departed_at
    from encounters
    left join status_times on encounters.encounter_id = status_times.encounter_id
    left join location_times on encounters.encounter_id = location_times.encounter_id
    left join departments on encounters.department_code = departments.department_code

),

flagged as (

    select
        *,
        coalesce(
            discharge_disposition_code = '21541000119102'
            or (discharge_disposition_code is null and encounter_class = 'EMER'
                and encounter_status in ('finished', 'cancelled') and provider_seen_at is null),
            false
        ) as is_lwbs
    from derived

)

select
    *,
    encounter_status in ('arrived', 'triaged', 'in-progress', 'onleave', 'finished') or is_lwbs as is_visit,
    arrived_at::date as arrived_local_date,
    round(date_diff('millisecond', arrived_at, provider_seen_at) / 60000.0, 2) as door_to_provider_min,
    round(date_diff('millisecond', arrived_at, departed_at) / 3600000.0, 3) as length_of_stay_hours
from flagged;

-- Waits per local day × department × encounter class (metrics_wait_daily, encounter columns)
create or replace table floor_wait_daily as
with

daily as (

    select
        arrived_local_date as metric_date,
        department_code,
        encounter_class,
        count(*) as encounters,
        count(door_to_provider_min) filter (where not is_lwbs) as door_to_provider_n,
        quantile_cont(door_to_provider_min, 0.5) filter (where not is_lwbs) as door_to_provider_p50,
        quantile_cont(door_to_provider_min, 0.9) filter (where not is_lwbs) as door_to_provider_p90,
        count(length_of_stay_hours) as los_n,
        quantile_cont(length_of_stay_hours, 0.5) as los_p50,
        quantile_cont(length_of_stay_hours, 0.9) as los_p90,
        count(*) filter (where is_lwbs) as lwbs_encounters
    from encounter_waits
    where is_visit and arrived_local_date is not null
    group by all

)

select
    metric_date,
    department_code,
    encounter_class,
    encounters,
    round(case when door_to_provider_n >= 11 then door_to_provider_p50 end, 2) as door_to_provider_p50_min,
    round(case when door_to_provider_n >= 11 then door_to_provider_p90 end, 2) as door_to_provider_p90_min,
    round(case when los_n >= 11 then los_p50 end, 3) as los_p50_hours,
    round(case when los_n >= 11 then los_p90 end, 3) as los_p90_hours,
    lwbs_encounters,
    case when encounters >= 11 then lwbs_encounters / encounters end as lwbs_rate
from daily;

-- Survey responses: latest version, the first completed one per encounter is primary
create or replace table floor_satisfaction_monthly as
with

landed as (

    select *
    from landed_questionnaire_responses
    where id is not null
    qualify row_number() over (
        partition by id order by meta.lastUpdated::timestamptz desc nulls last, filename desc
    ) = 1

),

responses as (

    select
        id as response_id,
        lower(status) in ('completed', 'amended') as is_completed,
        nullif(regexp_extract(encounter.reference, '(?:^|/)Encounter/([^/]+)', 1), '') as encounter_id,
        try_cast(trim(authored) as timestamptz) as authored_at,
        try_cast(list_filter(item, i -> i.linkId = 'nps')[1].answer[1].valueInteger as integer) as nps_raw,
        try_cast(list_filter(item, i -> i.linkId = 'overall')[1].answer[1].valueInteger as integer) as overall_raw
    from landed

),

primary_responses as (

    select
        responses.*,
        case when nps_raw between 0 and 10 then nps_raw end as nps_score,
        case when overall_raw between 0 and 10 then overall_raw end as overall_rating,
        coalesce(encounter_waits.department_code, 'unknown') as department_code,
        date_trunc('month', coalesce(encounter_waits.arrived_local_date, authored_at::date))::date as month_start_date
    from responses
    left join encounter_waits on responses.encounter_id = encounter_waits.encounter_id
    where is_completed and responses.encounter_id is not null
    qualify row_number() over (
        partition by responses.encounter_id order by authored_at nulls last, response_id
    ) = 1

),

monthly as (

    select
        month_start_date,
        department_code,
        count(*) as responses,
        count(nps_score) as nps_responses,
        count(*) filter (where nps_score >= 9) as promoters,
        count(*) filter (where nps_score <= 6) as detractors,
        count(overall_rating) as overall_responses,
        count(*) filter (where overall_rating >= 9) as overall_top_box_responses
    from primary_responses
    where month_start_date is not null
    group by all

)

select
    month_start_date,
    department_code,
    responses,
    round(case when nps_responses >= 11 then 100.0 * (promoters - detractors) / nps_responses end, 2) as nps,
    round(100.0 * case when overall_responses >= 11 then overall_top_box_responses / overall_responses end, 2)
        as overall_top_box_pct
from monthly;

-- 30-day return rate per month the visit ended × department (metrics_loyalty_monthly)
create or replace table floor_return_monthly as
with

visits as (

    select
        encounter_id,
        patient_key,
        department_code,
        arrived_at,
        coalesce(departed_at, arrived_at) as visit_ended_at,
        greatest(coalesce(departed_at, arrived_at), arrived_at) as next_after
    from encounter_waits
    where is_visit and patient_key is not null and arrived_at is not null

),

next_visits as (

    -- the first later arrival of the same patient: an ASOF join instead of a self-join + min
    select visits.*, later.arrived_at as next_arrived_at
    from visits
    asof left join visits as later
        on visits.patient_key = later.patient_key
        and visits.next_after < later.arrived_at

),

flagged as (

    select
        *,
        visit_ended_at + interval 30 day <= max(arrived_at) over () as is_window_closed,
        coalesce(next_arrived_at <= visit_ended_at + interval 30 day, false) as has_return
    from next_visits

),

monthly as (

    select
        date_trunc('month', visit_ended_at::date)::date as month_start_date,
        department_code,
        count(*) filter (where is_window_closed) as return_30d_n,
        count(*) filter (where is_window_closed and has_return) as returns_30d
    from flagged
    group by all

)

select
    month_start_date,
    department_code,
    return_30d_n,
    returns_30d,
    case when return_30d_n >= 11 then returns_30d / return_30d_n end as return_rate_30d
from monthly;
