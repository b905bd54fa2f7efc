-- One row per identifier token of the latest version of each Location: its `system|value` (and
-- `|value`, which a reference without a system matches) in clear, and the keys of both (a
-- Reference.identifier is keyed at load). Resolves `Location?identifier=system|value` and
-- Reference.identifier; a token held by two locations resolves to neither (location_count > 1).
{{ config(materialized='table') }}
with

latest as (

    {{ latest_fhir_versions('ehr', 'ehr_location', 'location_id') }}

),

identifiers as (

    select
        latest.location_id,
        unnest(json_extract(latest.resource, '$.identifier[*]')) as identifier

    from latest

),

tokens as (

    select location_id, coalesce(identifier ->> '$.system', '') || '|' || trim(identifier ->> '$.value') as identifier_token
    from identifiers
    where nullif(trim(identifier ->> '$.value'), '') is not null
    union
    select location_id, '|' || trim(identifier ->> '$.value')
    from identifiers
    where nullif(trim(identifier ->> '$.value'), '') is not null
    union
    select latest.location_id, unnest(json_extract_string(latest.resource, '$._journey.identifierKeys[*]'))
    from latest

),

final as (

    select
        identifier_token,
        min(location_id) as location_id,
        count(distinct location_id) as location_count

    from tokens
    group by identifier_token

)

select * from final
