-- One row per survey response, the known items pivoted into typed columns. An unanswered item is
-- absent in FHIR and NULL here.
{%- set hcahps_items = ['nurse_communication', 'doctor_communication', 'responsiveness',
                        'cleanliness', 'quietness', 'discharge_information'] %}
with

source as (

    select * from {{ raw_source('ehr', 'ehr_questionnaire_response') }}

),

items_extracted as (

    select
        *,
        json_extract(resource, '$.item[*]') as items

    from source

),

renamed as (

    select
        coalesce(resource_id, resource ->> '$.id') as response_id,
        lower(resource ->> '$.status') as response_status,
        {{ clean_text("resource ->> '$.questionnaire'") }} as questionnaire_url,
        {{ fhir_reference_id("resource ->> '$.encounter.reference'", 'Encounter') }} as encounter_id,
        {{ fhir_reference_id("resource ->> '$.subject.reference'", 'Patient') }} as patient_key,
        {{ to_utc("resource ->> '$.authored'") }} as authored_at,
        try_cast(
            list_filter(items, lambda item: item ->> '$.linkId' = 'nps')[1] ->> '$.answer[0].valueInteger'
            as integer
        ) as nps_score,
        try_cast(
            list_filter(items, lambda item: item ->> '$.linkId' = 'overall')[1] ->> '$.answer[0].valueInteger'
            as integer
        ) as overall_rating,
        {%- for item in hcahps_items %}
        lower(
            list_filter(items, lambda item: item ->> '$.linkId' = '{{ item }}')[1]
                ->> '$.answer[0].valueCoding.code'
        ) as {{ item }},
        {%- endfor %}
        list_filter(items, lambda item: item ->> '$.linkId' = 'comment')[1] ->> '$.answer[0].valueString'
            as comment_text,
        {{ to_utc("resource ->> '$.meta.lastUpdated'") }} as last_updated_at,
        _source_file,
        _row_number,
        _batch_id,
        _landing_date,
        _loaded_at

    from items_extracted

),

final as (

    select *
    from renamed
    where response_id is not null
    qualify row_number() over (
        partition by response_id
        order by last_updated_at desc nulls last, {{ lineage_order() }}
    ) = 1

)

select * from final
