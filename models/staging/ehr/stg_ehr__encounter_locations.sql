-- One row per Encounter.location[] element of the latest version of each encounter.
with

encounters as (

    select * from {{ raw_source('ehr', 'ehr_encounter') }}

),

latest_versions as (

    select
        coalesce(resource_id, resource ->> '$.id') as encounter_id,
        resource,
        _source_file,
        _row_number,
        _batch_id,
        _landing_date,
        _loaded_at

    from encounters
    where coalesce(resource_id, resource ->> '$.id') is not null
    qualify row_number() over (
        partition by coalesce(resource_id, resource ->> '$.id')
        order by {{ to_utc("resource ->> '$.meta.lastUpdated'") }} desc nulls last, {{ lineage_order() }}
    ) = 1

),

unnested as (

    select
        latest_versions.encounter_id,
        locations.element_index,
        locations.element,
        latest_versions._source_file,
        latest_versions._row_number,
        latest_versions._batch_id,
        latest_versions._landing_date,
        latest_versions._loaded_at

    from latest_versions,
        unnest(json_extract(latest_versions.resource, '$.location[*]'))
            with ordinality as locations (element, element_index)

),

final as (

    select
        encounter_id || '#' || element_index as encounter_location_id,
        encounter_id,
        cast(element_index as integer) as location_index,
        {{ fhir_reference_id("element ->> '$.location.reference'", 'Location') }} as location_id,
        {{ clean_text("element ->> '$.location.display'") }} as location_display,
        lower(element ->> '$.status') as location_status,
        {{ to_utc("element ->> '$.period.start'") }} as period_start_at,
        {{ to_utc("element ->> '$.period.end'") }} as period_end_at,
        _source_file,
        _row_number,
        _batch_id,
        _landing_date,
        _loaded_at

    from unnested

)

select * from final
