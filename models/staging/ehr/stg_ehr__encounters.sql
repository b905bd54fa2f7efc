-- One row per encounter: its latest version. statusHistory[] and location[] are unnested in
-- stg_ehr__encounter_status_history and stg_ehr__encounter_locations.
{{ config(pre_hook="{{ fhir_staging_hook('ehr', 'ehr_encounter', 'Encounter', 'encounter_id') }}") }}
-- Incremental by encounter_id (macros/staging.sql, "Incremental staging").
with

latest as (

    {{ latest_fhir_versions('ehr', 'ehr_encounter', 'encounter_id') }}

),

final as (

    select
        encounter_id,
        lower(resource ->> '$.status') as encounter_status,
        upper(resource ->> '$.class.code') as encounter_class,
        {{ fhir_reference_id("resource ->> '$.subject.reference'", 'Patient') }} as patient_key,
        {{ clean_text("resource ->> '$.serviceType.coding[0].code'") }} as department_code,
        {{ to_utc("resource ->> '$.period.start'") }} as period_start_at,
        {{ to_utc("resource ->> '$.period.end'") }} as period_end_at,
        {{ fhir_reference_id("resource ->> '$.appointment[0].reference'", 'Appointment') }} as appointment_id,
        {{ clean_text("resource ->> '$.hospitalization.dischargeDisposition.coding[0].code'") }}
            as discharge_disposition_code,
        {{ clean_text("resource ->> '$.hospitalization.dischargeDisposition.coding[0].system'") }}
            as discharge_disposition_system,
        last_updated_at,
        {{ lineage_columns() }}

    from latest

)

select * from final
