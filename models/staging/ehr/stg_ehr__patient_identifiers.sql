-- One row per keyed identifier of the latest version of each Patient: resolves a conditional
-- reference `Patient?identifier=…` or a Reference.identifier, both keyed at load like
-- `_journey.identifierKeys` (HMAC of `system|value` and of `|value`; the value never reaches raw).
-- A key held by two patients resolves to neither (patient_count > 1).
{{ config(materialized='table') }}
with

latest as (

    {{ latest_fhir_versions('ehr', 'ehr_patient', 'patient_key') }}

),

keys as (

    select distinct
        latest.patient_key,
        unnest(json_extract_string(latest.resource, '$._journey.identifierKeys[*]')) as identifier_key

    from latest

),

final as (

    select
        identifier_key,
        min(patient_key) as patient_key,
        count(*) as patient_count

    from keys
    group by identifier_key

)

select * from final
