with

source as (

    select * from {{ raw_source('ehr', 'ehr_encounter') }}

),

renamed as (

    select
        coalesce(resource_id, resource ->> '$.id') as encounter_id,
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
        {{ to_utc("resource ->> '$.meta.lastUpdated'") }} as last_updated_at,
        _source_file,
        _row_number,
        _batch_id,
        _landing_date,
        _loaded_at

    from source

),

final as (

    select *
    from renamed
    where encounter_id is not null
    qualify row_number() over (
        partition by encounter_id
        order by last_updated_at desc nulls last, {{ lineage_order() }}
    ) = 1

)

select * from final
