-- One row per location: the latest version of each Location resource.
{{ config(pre_hook="{{ fhir_staging_hook('ehr', 'ehr_location', 'Location', 'location_id') }}") }}
-- Incremental by location_id (macros/staging.sql, "Incremental staging").
with

latest as (

    {{ latest_fhir_versions('ehr', 'ehr_location', 'location_id') }}

),

final as (

    select
        location_id,
        {{ clean_text("resource ->> '$.name'") }} as location_name,
        lower(
            list_filter(
                json_extract(resource, '$.type[*].coding[*]'),
                lambda coding: coding ->> '$.system' = 'https://journey.example/fhir/CodeSystem/location-role'
            )[1] ->> '$.code'
        ) as location_role_code,
        {{ fhir_reference_id("resource ->> '$.managingOrganization.reference'", 'Organization') }}
            as managing_organization_id,
        last_updated_at,
        {{ lineage_columns() }}

    from latest

)

select * from final
