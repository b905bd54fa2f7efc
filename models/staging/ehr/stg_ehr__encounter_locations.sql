-- One row per Encounter.location[] element of the latest version of each encounter.
{{ config(pre_hook="{{ fhir_staging_hook('ehr', 'ehr_encounter', 'Encounter', 'encounter_id') }}") }}
-- Incremental by encounter_id (macros/staging.sql, "Incremental staging").
with

latest as (

    {{ latest_fhir_versions('ehr', 'ehr_encounter', 'encounter_id') }}

),

elements as (

    {{ fhir_array_elements('latest', 'encounter_id', '$.location[*]') }}

),

final as (

    select
        encounter_id || '#' || element_index as encounter_location_id,
        encounter_id,
        element_index as location_index,
        {{ fhir_reference_id("element ->> '$.location.reference'", 'Location') }} as location_id,
        -- a conditional reference's `system|value` (in clear), or a Reference.identifier's key (keyed
        -- at load); int_encounter_waits_derived resolves either through stg_ehr__location_identifiers
        coalesce(
            {{ fhir_conditional_identifier("element ->> '$.location.reference'", 'Location') }},
            case when json_type(element, '$.location.identifier') = 'OBJECT'
                then nullif(element ->> '$.location.identifier.value', '') end
        ) as location_identifier,
        {{ clean_text("element ->> '$.location.display'") }} as location_display,
        lower(element ->> '$.status') as location_status,
        {{ to_utc("element ->> '$.period.start'") }} as period_start_at,
        {{ to_utc("element ->> '$.period.end'") }} as period_end_at,
        {{ unreadable_values([
            time_problem("element ->> '$.period.start'", 'location[].period.start'),
            time_problem("element ->> '$.period.end'", 'location[].period.end'),
        ]) }} as unreadable_values,
        {{ lineage_columns() }}

    from elements

)

select * from final
