-- One row per patient (pseudonymised): the latest version of each Patient resource.
{{ config(pre_hook="{{ fhir_staging_hook('ehr', 'ehr_patient', 'Patient', 'patient_key') }}") }}
-- Incremental by patient_key (macros/staging.sql, "Incremental staging").
with

latest as (

    {{ latest_fhir_versions('ehr', 'ehr_patient', 'patient_key') }}

),

final as (

    select
        patient_key,
        lower(resource ->> '$.gender') as gender,
        try_cast(resource ->> '$._journey.birthYear' as integer) as birth_year,
        {{ clean_text("resource ->> '$._journey.region'") }} as region,
        last_updated_at,
        {{ unreadable_values([time_problem("resource ->> '$.meta.lastUpdated'", 'meta.lastUpdated')]) }}
            as unreadable_values,
        {{ lineage_columns() }}

    from latest

)

select * from final
