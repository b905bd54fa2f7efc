-- One row per encounter: its latest version. statusHistory[] and location[] are unnested in
-- stg_ehr__encounter_status_history and stg_ehr__encounter_locations. Class, department and
-- discharge disposition go through the code map in effect (stg_ehr__code_map): the source code and
-- system are kept beside the mapped code, and an unmapped code is NULL with a reason, never a default.
{{ config(pre_hook="{{ fhir_staging_hook('ehr', 'ehr_encounter', 'Encounter', 'encounter_id') }}") }}
-- Incremental by encounter_id (macros/staging.sql, "Incremental staging").
{%- set department_sources = var('department_sources') %}
with

latest as (

    {{ latest_fhir_versions('ehr', 'ehr_encounter', 'encounter_id') }}

),

source_codes as (

    select
        *,
        {{ clean_text("resource ->> '$.class.code'") }} as encounter_class_source_code,
        {{ clean_text("resource ->> '$.class.system'") }} as encounter_class_source_system,
        {{ clean_text("resource ->> '$.hospitalization.dischargeDisposition.coding[0].code'") }}
            as discharge_disposition_code,
        {{ clean_text("resource ->> '$.hospitalization.dischargeDisposition.coding[0].system'") }}
            as discharge_disposition_system,
        -- department candidates (var department_sources picks the order)
        {{ clean_text("resource ->> '$.serviceType.coding[0].system'") }} as serviceType_system,
        {{ clean_text("resource ->> '$.serviceType.coding[0].code'") }} as serviceType_code,
        {{ clean_text("resource ->> '$.type[0].coding[0].system'") }} as type_system,
        {{ clean_text("resource ->> '$.type[0].coding[0].code'") }} as type_code,
        {{ fhir_reference_id("resource ->> '$.subject.reference'", 'Patient') }} as patient_id,
        nullif(coalesce(
            regexp_extract(resource ->> '$.subject.reference', '(?:^|/)Patient\?identifier=([0-9a-f]{64})$', 1),
            case when json_type(resource, '$.subject.identifier') = 'OBJECT'
                then resource ->> '$.subject.identifier.value' end
        ), '') as patient_identifier_key,
        {{ fhir_reference_id("resource ->> '$.serviceProvider.reference'", 'Organization') }} as service_provider_id,
        {{ fhir_conditional_identifier("resource ->> '$.serviceProvider.reference'", 'Organization') }}
            as service_provider_identifier,
        {{ fhir_reference_id("resource ->> '$.location[0].location.reference'", 'Location') }} as first_location_id,
        {{ fhir_conditional_identifier("resource ->> '$.location[0].location.reference'", 'Location') }}
            as first_location_identifier

    from latest

),

candidates as (

    select
        *,
        -- a Reference is mapped by its id (any system) or its identifier token's system and value
        case when service_provider_id is null then nullif(split_part(service_provider_identifier, '|', 1), '') end
            as serviceProvider_system,
        coalesce(service_provider_id, nullif(split_part(service_provider_identifier, '|', 2), ''))
            as serviceProvider_code,
        case when first_location_id is null then nullif(split_part(first_location_identifier, '|', 1), '') end
            as location_system,
        coalesce(first_location_id, nullif(split_part(first_location_identifier, '|', 2), '')) as location_code

    from source_codes

),

mapped as (

    select
        *,
        coalesce(
            {{ mapped_code('encounter_class', 'encounter_class_source_system', 'encounter_class_source_code') }},
            (select classes.code from {{ ref('encounter_classes') }} as classes
             where classes.code = upper(encounter_class_source_code))
        ) as encounter_class_code,
        coalesce(
            {{ mapped_code('discharge_disposition', 'discharge_disposition_system', 'discharge_disposition_code') }},
            (select categories.category from {{ ref('discharge_disposition_categories') }} as categories
             where categories.category = lower(discharge_disposition_code))
        ) as discharge_disposition_category,
        {%- for source in department_sources %}
        coalesce(
            {{ mapped_code('department', source ~ '_system', source ~ '_code') }},
            (select departments.code from {{ ref('departments') }} as departments
             where departments.code = {{ source }}_code)
        ) as {{ source }}_department{{ ',' if not loop.last }}
        {%- endfor %}

    from candidates

),

final as (

    select
        encounter_id,
        lower(resource ->> '$.status') as encounter_status,
        (select classes.reporting_class from {{ ref('encounter_classes') }} as classes
         where classes.code = encounter_class_code) as encounter_class,
        encounter_class_code,
        encounter_class_source_code,
        encounter_class_source_system,
        case
            when encounter_class_source_code is null then 'class_missing'
            when encounter_class_code is null then 'class_unmapped'
        end as encounter_class_null_reason,
        -- by id, else by a keyed identifier (a conditional reference or Reference.identifier), resolved
        -- against the Patients loaded so far (an unresolved one fails encounter_has_patient)
        coalesce(
            patient_id,
            (select identifiers.patient_key from {{ ref('stg_ehr__patient_identifiers') }} as identifiers
             where identifiers.identifier_key = patient_identifier_key and identifiers.patient_count = 1)
        ) as patient_key,
        patient_identifier_key,
        coalesce({% for source in department_sources %}{{ source }}_department{{ ', ' if not loop.last }}{% endfor %})
            as department_code,
        case
            {%- for source in department_sources %}
            when {{ source }}_department is not null then '{{ source }}'
            {%- endfor %}
            {%- for source in department_sources %}
            when {{ source }}_code is not null then '{{ source }}'
            {%- endfor %}
        end as department_source,
        case
            {%- for source in department_sources %}
            when {{ source }}_department is not null then {{ source }}_code
            {%- endfor %}
            {%- for source in department_sources %}
            when {{ source }}_code is not null then {{ source }}_code
            {%- endfor %}
        end as department_source_code,
        case
            {%- for source in department_sources %}
            when {{ source }}_department is not null then {{ source }}_system
            {%- endfor %}
            {%- for source in department_sources %}
            when {{ source }}_code is not null then {{ source }}_system
            {%- endfor %}
        end as department_source_system,
        case
            {%- for source in department_sources %}
            when {{ source }}_department is not null then null
            {%- endfor %}
            when coalesce({% for source in department_sources %}{{ source }}_code{{ ', ' if not loop.last }}{% endfor %}) is null
                then 'no_department_source'
            else 'department_unmapped'
        end as department_null_reason,
        service_provider_id,
        service_provider_identifier,
        {{ to_utc("resource ->> '$.period.start'") }} as period_start_at,
        {{ to_utc("resource ->> '$.period.end'") }} as period_end_at,
        {{ fhir_reference_id("resource ->> '$.appointment[0].reference'", 'Appointment') }} as appointment_id,
        discharge_disposition_code,
        discharge_disposition_system,
        discharge_disposition_category,
        case
            when discharge_disposition_code is null then 'no_disposition'
            when discharge_disposition_category is null then 'disposition_unmapped'
        end as discharge_disposition_null_reason,
        last_updated_at,
        {{ unreadable_values([
            time_problem("resource ->> '$.period.start'", 'period.start'),
            time_problem("resource ->> '$.period.end'", 'period.end'),
            time_problem("resource ->> '$.meta.lastUpdated'", 'meta.lastUpdated'),
        ]) }} as unreadable_values,
        {{ lineage_columns() }}

    from mapped

)

select * from final
