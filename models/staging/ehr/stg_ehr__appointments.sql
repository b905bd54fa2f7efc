-- One row per appointment: its latest version (a status change re-exports it; the latest
-- meta.lastUpdated wins). A cancellation's time is the cancelled version's meta.lastUpdated.
{{ config(pre_hook="{{ fhir_staging_hook('ehr', 'ehr_appointment', 'Appointment', 'appointment_id') }}") }}
-- Incremental by appointment_id (macros/staging.sql, "Incremental staging").
{%- set booking_channel -%}
    list_filter(
        json_extract(resource, '$.extension[*]'),
        lambda extension: extension ->> '$.url'
            = 'https://journey.example/fhir/StructureDefinition/booking-channel'
    )[1] ->> '$.valueCode'
{%- endset %}
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
        {{ known_code("resource ->> '$.serviceType[0].coding[0].code'", 'departments', 'department') }}
            as department_code,
        {{ code_null_reason("resource ->> '$.serviceType[0].coding[0].code'", 'departments', 'department') }}
            as department_null_reason,
        -- by id, else by a conditional reference `Patient?identifier=` keyed at load, resolved against
        -- the Patients loaded so far (stg_ehr__patient_identifiers)
        coalesce(
            {{ fhir_reference_id(
                "list_filter(json_extract_string(resource, '$.participant[*].actor.reference'),
                    lambda reference: reference like '%Patient/%')[1]",
                'Patient') }},
            (select identifiers.patient_key from {{ ref('stg_ehr__patient_identifiers') }} as identifiers
             where identifiers.patient_count = 1 and identifiers.identifier_key = regexp_extract(
                list_filter(json_extract_string(resource, '$.participant[*].actor.reference'),
                    lambda reference: reference like '%Patient?identifier=%')[1],
                'Patient\?identifier=([0-9a-f]{64})$', 1))
        ) as patient_key,
        -- by id, else the identifier token `system|value` of `Practitioner?identifier=…` (Practitioner
        -- resources are not loaded: the token is the practitioner's key)
        coalesce(
            {{ fhir_reference_id(
                "list_filter(json_extract_string(resource, '$.participant[*].actor.reference'),
                    lambda reference: reference like '%Practitioner/%')[1]",
                'Practitioner') }},
            {{ fhir_conditional_identifier(
                "list_filter(json_extract_string(resource, '$.participant[*].actor.reference'),
                    lambda reference: reference like '%Practitioner?%')[1]",
                'Practitioner') }}
        ) as practitioner_id,
        {{ fhir_reference_id("resource ->> '$.slot[0].reference'", 'Slot') }} as slot_id,
        lower({{ clean_text("resource ->> '$.cancelationReason.coding[0].code'") }}) as cancellation_reason_code,
        {{ known_code(booking_channel, 'channels') }} as booking_channel_code,
        {{ code_null_reason(booking_channel, 'channels') }} as booking_channel_null_reason,
        last_updated_at,
        {{ unreadable_values([
            time_problem("resource ->> '$.created'", 'created'),
            time_problem("resource ->> '$.start'", 'start'),
            time_problem("resource ->> '$.end'", 'end'),
            time_problem("resource ->> '$.meta.lastUpdated'", 'meta.lastUpdated'),
        ]) }} as unreadable_values,
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
