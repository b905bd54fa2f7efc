-- One row per location: the latest version of each Location resource, with its role (waiting-room,
-- triage, treatment-room, other) from the code map (domain location_role): first a mapping of the
-- Location's id or of one of its identifiers (`system|value`), then any type[].coding[] (journey's
-- location-role CodeSystem is a built-in default), then physicalType.coding[]. Which one decided is
-- location_role_evidence; with none, int_encounter_waits_derived falls back to name keywords.
{{ config(pre_hook="{{ fhir_staging_hook('ehr', 'ehr_location', 'Location', 'location_id') }}") }}
-- Incremental by location_id (macros/staging.sql, "Incremental staging").
with

latest as (

    {{ latest_fhir_versions('ehr', 'ehr_location', 'location_id') }}

),

evidence as (

    -- every code that may name the role, with its priority (1 = strongest)
    select location_id, 'location_mapping' as evidence, 1 as priority, null as code_system, location_id as code
    from latest
    union all
    select
        location_id, 'location_mapping', 1, null,
        coalesce(identifier ->> '$.system', '') || '|' || (identifier ->> '$.value')
    from (select location_id, unnest(json_extract(resource, '$.identifier[*]')) as identifier from latest)
    union all
    select location_id, 'type', 2, coding ->> '$.system', coding ->> '$.code'
    from (select location_id, unnest(json_extract(resource, '$.type[*].coding[*]')) as coding from latest)
    union all
    select location_id, 'physical_type', 3, coding ->> '$.system', coding ->> '$.code'
    from (select location_id, unnest(json_extract(resource, '$.physicalType.coding[*]')) as coding from latest)

),

roles as (

    select
        location_id,
        evidence,
        priority,
        code_system,
        code,
        coalesce(
            {{ mapped_code('location_role', 'code_system', 'code') }},
            -- journey's own CodeSystem, case-insensitively
            case when code_system = 'https://journey.example/fhir/CodeSystem/location-role'
                 and lower(code) in ('waiting-room', 'triage', 'treatment-room') then lower(code) end
        ) as location_role

    from evidence
    where nullif(trim(code), '') is not null

),

decided as (

    select location_id, location_role, evidence
    from roles
    where location_role is not null
    qualify row_number() over (partition by location_id order by priority, code_system nulls first, code) = 1

),

final as (

    select
        latest.location_id,
        {{ clean_text("latest.resource ->> '$.name'") }} as location_name,
        decided.location_role as location_role_code,
        decided.evidence as location_role_evidence,
        {{ clean_text("latest.resource ->> '$.type[0].coding[0].system'") }} as location_type_system,
        {{ clean_text("latest.resource ->> '$.type[0].coding[0].code'") }} as location_type_code,
        {{ clean_text("latest.resource ->> '$.physicalType.coding[0].system'") }} as physical_type_system,
        {{ clean_text("latest.resource ->> '$.physicalType.coding[0].code'") }} as physical_type_code,
        {{ fhir_reference_id("latest.resource ->> '$.managingOrganization.reference'", 'Organization') }}
            as managing_organization_id,
        latest.last_updated_at,
        {{ unreadable_values([time_problem("latest.resource ->> '$.meta.lastUpdated'", 'meta.lastUpdated')]) }}
            as unreadable_values,
        {{ lineage_columns('latest') }}

    from latest
    left join decided
        on latest.location_id = decided.location_id

)

select * from final
