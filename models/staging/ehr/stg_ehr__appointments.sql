-- One row per appointment: its latest version (a status change re-exports it; the latest
-- meta.lastUpdated wins). A cancellation's time is the cancelled version's meta.lastUpdated.
{{ config(pre_hook="{{ fhir_staging_hook('ehr', 'ehr_appointment', 'Appointment', 'appointment_id') }}") }}
-- Incremental by appointment_id (macros/staging.sql, "Incremental staging").
with

latest as (

    {{ latest_fhir_versions('ehr', 'ehr_appointment', 'appointment_id') }}

),

renamed as (

    select
        appointment_id,
        lower(resource ->> '$.status') as appointment_status,
        {{ to_utc("resource ->> '$.created'") }} as booked_at,
        {{ to_utc("resource ->> '$.start'") }} as start_at,
        {{ to_utc("resource ->> '$.end'") }} as end_at,
        {{ clean_text("resource ->> '$.serviceType[0].coding[0].code'") }} as department_code,
        {{ fhir_reference_id(
            "list_filter(json_extract_string(resource, '$.participant[*].actor.reference'),
                lambda reference: reference like '%Patient/%')[1]",
            'Patient') }} as patient_key,
        {{ fhir_reference_id(
            "list_filter(json_extract_string(resource, '$.participant[*].actor.reference'),
                lambda reference: reference like '%Practitioner/%')[1]",
            'Practitioner') }} as practitioner_id,
        {{ fhir_reference_id("resource ->> '$.slot[0].reference'", 'Slot') }} as slot_id,
        lower({{ clean_text("resource ->> '$.cancelationReason.coding[0].code'") }}) as cancellation_reason_code,
        lower(
            list_filter(
                json_extract(resource, '$.extension[*]'),
                lambda extension: extension ->> '$.url'
                    = 'https://journey.example/fhir/StructureDefinition/booking-channel'
            )[1] ->> '$.valueCode'
        ) as booking_channel_code,
        last_updated_at,
        {{ lineage_columns() }}

    from latest

),

final as (

    select
        *,
        case when appointment_status = 'cancelled' then last_updated_at end as cancelled_at

    from renamed

)

select * from final
