with

source as (

    select * from {{ raw_source('ehr', 'ehr_location') }}

),

renamed as (

    select
        coalesce(resource_id, resource ->> '$.id') as location_id,
        {{ clean_text("resource ->> '$.name'") }} as location_name,
        lower(
            list_filter(
                json_extract(resource, '$.type[*].coding[*]'),
                lambda coding: coding ->> '$.system' = 'https://journey.example/fhir/CodeSystem/location-role'
            )[1] ->> '$.code'
        ) as location_role_code,
        {{ fhir_reference_id("resource ->> '$.managingOrganization.reference'", 'Organization') }}
            as managing_organization_id,
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
    where location_id is not null
    qualify row_number() over (
        partition by location_id
        order by last_updated_at desc nulls last, {{ lineage_order() }}
    ) = 1

)

select * from final
