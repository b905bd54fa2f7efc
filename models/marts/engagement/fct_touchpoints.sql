-- One row per touchpoint of the patient journey (pre / in / post visit).
--
-- Incremental (delete+insert on touchpoint_id). Each run rebuilds the touchpoints that
--   * occurred within var('late_lookback_days') days of the latest one already built, or
--   * are not built yet, or
--   * have an input (the record, its encounter, its campaign) loaded after the latest
--     source_loaded_at already built, or
--   * still point at the `unknown` patient although the source names one (the Patient may have
--     landed since),
-- and the post-hook deletes touchpoints whose source record no longer yields one (e.g. an encounter
-- re-sent as entered-in-error). Seed edits need `--full-refresh`.
{{ config(
    materialized='incremental',
    unique_key='touchpoint_id',
    incremental_strategy='delete+insert',
    on_schema_change='sync_all_columns',
    post_hook=[
        "{% if is_incremental() %}delete from {{ this }} where touchpoint_id not in (select touchpoint_id from {{ ref('int_touchpoints_unioned') }}){% endif %}"
    ]
) }}
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

{% if is_incremental_with("source_loaded_at") -%}
built as (

    {{ incremental_bounds('occurred_local_date') }}

),

in_scope as (

    select touchpoints.touchpoint_id
    from touchpoints
    cross join built
    left join {{ this }} as existing
        on touchpoints.touchpoint_id = existing.touchpoint_id
    where existing.touchpoint_id is null
       or touchpoints.source_loaded_at > built.max_source_loaded_at
       or {{ to_local_date('touchpoints.occurred_at') }}
            >= built.max_event_date - interval {{ var('late_lookback_days') }} day
       or (existing.patient_key = 'unknown' and touchpoints.patient_key is not null)

),
{%- else -%}
in_scope as (

    select touchpoint_id from touchpoints

),
{%- endif %}

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
            as is_organic,
        touchpoints.source_loaded_at

    from touchpoints
    inner join in_scope
        on touchpoints.touchpoint_id = in_scope.touchpoint_id
    left join departments
        on touchpoints.department_code = departments.department_code
    left join channels
        on touchpoints.channel_code = channels.channel_code
    left join patients
        on touchpoints.patient_key = patients.patient_key

)

select * from final
