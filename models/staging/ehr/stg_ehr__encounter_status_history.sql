-- One row per Encounter.statusHistory[] element of the latest version of each encounter.
{{ config(pre_hook="{{ fhir_staging_hook('ehr', 'ehr_encounter', 'Encounter', 'encounter_id') }}") }}
-- Incremental by encounter_id (macros/staging.sql, "Incremental staging").
with

latest as (

    {{ latest_fhir_versions('ehr', 'ehr_encounter', 'encounter_id') }}

),

elements as (

    {{ fhir_array_elements('latest', 'encounter_id', '$.statusHistory[*]') }}

),

final as (

    select
        encounter_id || '#' || element_index as encounter_status_history_id,
        encounter_id,
        element_index as history_index,
        lower(element ->> '$.status') as encounter_status,
        {{ to_utc("element ->> '$.period.start'") }} as period_start_at,
        {{ to_utc("element ->> '$.period.end'") }} as period_end_at,
        {{ unreadable_values([
            time_problem("element ->> '$.period.start'", 'statusHistory[].period.start'),
            time_problem("element ->> '$.period.end'", 'statusHistory[].period.end'),
        ]) }} as unreadable_values,
        {{ lineage_columns() }}

    from elements

)

select * from final
