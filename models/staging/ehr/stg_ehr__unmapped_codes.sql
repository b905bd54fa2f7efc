-- Every source code the code map in effect could not map, with how many rows carry it: encounter
-- classes, departments (the deciding element's code: the first of var department_sources that has
-- one) and discharge dispositions of stg_ehr__encounters, and the Location type / physicalType of a
-- Location without a role (int_encounter_waits_derived then falls back to name keywords). Add a line
-- to <data_dir>/mapping/code_map.csv for each (data/README.md, "Code mapping"). The run summary and
-- `journey profile` read this table.
{{ config(materialized='table') }}
with

encounters as (

    select * from {{ ref('stg_ehr__encounters') }}

),

locations as (

    select * from {{ ref('stg_ehr__locations') }}

),

unmapped as (

    select 'encounter_class' as domain, 'class' as source_element,
        encounter_class_source_system as source_system, encounter_class_source_code as source_code
    from encounters
    where encounter_class_null_reason = 'class_unmapped'
    union all
    select 'department', department_source, department_source_system, department_source_code
    from encounters
    where department_null_reason = 'department_unmapped'
    union all
    select 'discharge_disposition', 'hospitalization.dischargeDisposition',
        discharge_disposition_system, discharge_disposition_code
    from encounters
    where discharge_disposition_null_reason = 'disposition_unmapped'
    union all
    select 'location_role', 'Location.type', location_type_system, location_type_code
    from locations
    where location_role_code is null and location_type_code is not null
    union all
    select 'location_role', 'Location.physicalType', physical_type_system, physical_type_code
    from locations
    where location_role_code is null and physical_type_code is not null

),

final as (

    select
        domain,
        source_element,
        coalesce(source_system, '') as source_system,
        source_code,
        count(*) as row_count

    from unmapped
    group by all

)

select * from final
