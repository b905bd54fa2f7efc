-- One row per slot per daily snapshot (the drop's date): each drop holds every bookable slot in the
-- next 8 weeks with its status as of the extract, so snapshots are kept, not collapsed. A slot
-- re-delivered within the same drop keeps its latest copy.
with

source as (

    select * from {{ raw_source('ehr', 'ehr_slot') }}

),

renamed as (

    select
        coalesce(resource_id, resource ->> '$.id') as slot_id,
        _landing_date as snapshot_date,
        lower(resource ->> '$.status') as slot_status,
        {{ to_utc("resource ->> '$.start'") }} as start_at,
        {{ to_utc("resource ->> '$.end'") }} as end_at,
        {{ clean_text("resource ->> '$.serviceType[0].coding[0].code'") }} as department_code,
        {{ fhir_reference_id("resource ->> '$.schedule.reference'", 'Schedule') }} as schedule_id,
        {{ to_utc("resource ->> '$.meta.lastUpdated'") }} as snapshot_at,
        {{ lineage_columns() }}

    from source

),

final as (

    select
        slot_id || '@' || cast(snapshot_date as varchar) as slot_snapshot_id,
        *

    from renamed
    where slot_id is not null
    {{ latest_version('slot_id, snapshot_date', 'snapshot_at desc nulls last') }}

)

select * from final
