-- One row per touchpoint of the patient journey (pre / in / post visit).
with

touchpoints as (

    select * from {{ ref('int_touchpoints_unioned') }}

),

departments as (

    select * from {{ ref('dim_department') }}

),

channels as (

    select * from {{ ref('dim_channel') }}

),

patients as (

    select * from {{ ref('dim_patient') }}

),

final as (

    select
        touchpoints.touchpoint_id,
        touchpoints.journey_stage,
        touchpoints.touchpoint_type,
        touchpoints.source_record_id,
        touchpoints.occurred_at,
        {{ to_local_date('touchpoints.occurred_at') }} as occurred_local_date,
        -- a person the EHR has not exported yet (CRM, complaints) stays `unknown` until it does
        coalesce(patients.patient_key, 'unknown') as patient_key,
        patients.patient_key is not null and patients.patient_key <> 'unknown' as is_patient_known,
        touchpoints.anonymous_id,
        touchpoints.encounter_id,
        touchpoints.appointment_id,
        case
            when touchpoints.department_code is null then 'unknown'
            else coalesce(departments.department_code, 'unknown')
        end as department_code,
        case
            when touchpoints.channel_code is null then null
            else coalesce(channels.channel_code, 'unknown')
        end as channel_code,
        touchpoints.campaign_id,
        case when touchpoints.touchpoint_type like 'crm\_%' escape '\' then touchpoints.campaign_id is null end
            as is_organic

    from touchpoints
    left join departments
        on touchpoints.department_code = departments.department_code
    left join channels
        on touchpoints.channel_code = channels.channel_code
    left join patients
        on touchpoints.patient_key = patients.patient_key

)

select * from final
