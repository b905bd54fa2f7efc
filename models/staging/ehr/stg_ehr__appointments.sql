-- One row per appointment: its latest version (a status change re-exports it; the latest
-- meta.lastUpdated wins). A cancellation's time is the cancelled version's meta.lastUpdated.
with

source as (

    select * from {{ raw_source('ehr', 'ehr_appointment') }}

),

renamed as (

    select
        coalesce(resource_id, resource ->> '$.id') as appointment_id,
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
        {{ to_utc("resource ->> '$.meta.lastUpdated'") }} as last_updated_at,
        _source_file,
        _row_number,
        _batch_id,
        _landing_date,
        _loaded_at

    from source

),

deduplicated as (

    select *
    from renamed
    where appointment_id is not null
    qualify row_number() over (
        partition by appointment_id
        order by last_updated_at desc nulls last, {{ lineage_order() }}
    ) = 1

),

final as (

    select
        *,
        case when appointment_status = 'cancelled' then last_updated_at end as cancelled_at

    from deduplicated

)

select * from final
