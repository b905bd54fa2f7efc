-- One row per touchpoint of the patient journey (pre / in / post visit).
--
-- Incremental through the change feed (macros/change_feed.sql): a run rebuilds only the touchpoints
-- int_touchpoints_unioned rebuilt since the last one (a touchpoint gone from it stays deleted) and
-- those of patients that joined or left dim_patient (a CRM touch or complaint resolves to its
-- patient once the EHR exports them, to `unknown` before). The pre-hook deletes them, the model
-- appends them recomputed. Seed edits (departments, channels) need `--full-refresh`.
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='sync_all_columns',
    pre_hook="{{ fct_touchpoints_pre_hook() }}",
    post_hook="{{ change_feed_commit(fct_touchpoint_producers()) }}"
) }}
{%- set changed_only = is_incremental() and not change_feed_needs_full(fct_touchpoint_producers()) %}
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

in_scope as (

    {% if changed_only -%}
    select changed_key as touchpoint_id from {{ changed_keys_relation() }}
    {%- else -%}
    select touchpoint_id from touchpoints
    {%- endif %}

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
