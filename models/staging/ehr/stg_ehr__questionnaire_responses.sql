-- One row per survey response, the known items pivoted into typed columns. An unanswered item is
-- absent in FHIR and NULL here.
{%- set hcahps_items = hcahps_items() %}
{{ config(pre_hook="{{ fhir_staging_hook('ehr', 'ehr_questionnaire_response', 'QuestionnaireResponse', 'response_id') }}") }}
-- Incremental by response_id (macros/staging.sql, "Incremental staging").
{%- set nps_answer = "list_filter(items, lambda item: item ->> '$.linkId' = 'nps')[1] ->> '$.answer[0].valueInteger'" %}
{%- set overall_answer = "list_filter(items, lambda item: item ->> '$.linkId' = 'overall')[1] ->> '$.answer[0].valueInteger'" %}
with

latest as (

    {{ latest_fhir_versions('ehr', 'ehr_questionnaire_response', 'response_id') }}

),

items_extracted as (

    select
        *,
        json_extract(resource, '$.item[*]') as items

    from latest

),

final as (

    select
        response_id,
        lower(resource ->> '$.status') as response_status,
        {{ clean_text("resource ->> '$.questionnaire'") }} as questionnaire_url,
        {{ fhir_reference_id("resource ->> '$.encounter.reference'", 'Encounter') }} as encounter_id,
        {{ fhir_reference_id("resource ->> '$.subject.reference'", 'Patient') }} as patient_key,
        {{ to_utc("resource ->> '$.authored'") }} as authored_at,
        {{ parse_integer(nps_answer) }} as nps_score,
        {{ parse_integer(overall_answer) }} as overall_rating,
        {%- for item in hcahps_items %}
        lower(
            list_filter(items, lambda item: item ->> '$.linkId' = '{{ item }}')[1]
                ->> '$.answer[0].valueCoding.code'
        ) as {{ item }},
        {%- endfor %}
        list_filter(items, lambda item: item ->> '$.linkId' = 'comment')[1] ->> '$.answer[0].valueString'
            as comment_text,
        last_updated_at,
        {{ unreadable_values([
            time_problem("resource ->> '$.authored'", 'authored'),
            time_problem("resource ->> '$.meta.lastUpdated'", 'meta.lastUpdated'),
            integer_problem(nps_answer, 'item[nps].answer[0].valueInteger'),
            integer_problem(overall_answer, 'item[overall].answer[0].valueInteger'),
        ]) }} as unreadable_values,
        {{ lineage_columns() }}

    from items_extracted

)

select * from final
