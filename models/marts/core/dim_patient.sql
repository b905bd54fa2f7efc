-- One row per pseudonymous patient: every exported Patient, an inferred member for every patient key
-- an EHR resource (encounter, appointment, survey) references without a Patient resource, and the
-- `unknown` member. CRM touches and complaints may name people the EHR has not exported yet: their
-- facts use `unknown` until the Patient lands (every build is a full rebuild, so they resolve then).
-- A producer of the change feed (macros/change_feed.sql): the keys that joined or left the table,
-- which decide whether fct_touchpoints resolves a touchpoint to its patient or to `unknown`.
{{ config(
    pre_hook="{{ change_feed_keep_keys('patient_key') }}",
    post_hook="{{ change_feed_record_key_changes('patient_key') }}"
) }}
with

patients as (

    select * from {{ ref('stg_ehr__patients') }}

),

encounters as (

    select * from {{ ref('stg_ehr__encounters') }}

),

appointments as (

    select * from {{ ref('stg_ehr__appointments') }}

),

survey_responses as (

    select * from {{ ref('stg_ehr__questionnaire_responses') }}

),

touchpoints as (

    select * from {{ ref('int_touchpoints_unioned') }}

),

referenced_keys as (

    select patient_key from encounters
    union
    select patient_key from appointments
    union
    select patient_key from survey_responses

),

inferred_keys as (

    select referenced_keys.patient_key
    from referenced_keys
    left join patients
        on referenced_keys.patient_key = patients.patient_key
    where referenced_keys.patient_key is not null
      and patients.patient_key is null
      and referenced_keys.patient_key <> 'unknown'

),

first_seen as (

    select
        patient_key,
        min(occurred_at) as first_seen_at

    from touchpoints
    where patient_key is not null
    group by patient_key

),

all_patients as (

    select
        patient_key,
        birth_year,
        gender,
        region,
        false as is_inferred

    from patients

    union all

    select
        patient_key,
        cast(null as integer) as birth_year,
        cast(null as varchar) as gender,
        cast(null as varchar) as region,
        true as is_inferred

    from inferred_keys

),

with_age as (

    select
        all_patients.*,
        first_seen.first_seen_at,
        -- age in whole years at the first contact (year difference; the loader keeps only the year)
        extract(year from {{ to_local('first_seen.first_seen_at') }}) - all_patients.birth_year
            as age_at_first_seen_years

    from all_patients
    left join first_seen
        on all_patients.patient_key = first_seen.patient_key

),

described as (

    select
        patient_key,
        birth_year,
        case
            when age_at_first_seen_years is null or age_at_first_seen_years < 0 then 'unknown'
            when age_at_first_seen_years < 18 then '0-17'
            when age_at_first_seen_years < 35 then '18-34'
            when age_at_first_seen_years < 50 then '35-49'
            when age_at_first_seen_years < 65 then '50-64'
            when age_at_first_seen_years < 80 then '65-79'
            else '80+'
        end as age_band,
        -- why the band is `unknown` (NULL when it is known); a birth after the first contact is a
        -- source error, flagged (a warn test) rather than read as a band
        case
            when birth_year is null then 'no_birth_year'
            when age_at_first_seen_years is null then 'never_seen'
            when age_at_first_seen_years < 0 then 'birth_after_first_visit'
        end as age_band_reason,
        coalesce(age_at_first_seen_years < 0, false) as is_birth_after_first_seen,
        case
            when gender in ('male', 'female', 'other', 'unknown') then gender
            else 'unknown'
        end as sex,
        coalesce(region, 'unknown') as region,
        first_seen_at,
        is_inferred,
        false as is_unknown

    from with_age

),

unknown_member as (

    select
        'unknown' as patient_key,
        cast(null as integer) as birth_year,
        'unknown' as age_band,
        'unknown_member' as age_band_reason,
        false as is_birth_after_first_seen,
        'unknown' as sex,
        'unknown' as region,
        cast(null as timestamp) as first_seen_at,
        false as is_inferred,
        true as is_unknown

),

final as (

    select * from described
    union all
    select * from unknown_member

)

select * from final
