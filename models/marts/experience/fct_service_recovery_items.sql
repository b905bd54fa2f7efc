-- The service-recovery worklist: one row per completed survey response from a detractor or with a
-- bottom-box answer, and one row per complaint, with its waits and a one-line excerpt. Never the
-- patient's identity; free text was scrubbed at load (the CSV export scrubs the excerpt again).
{%- set hcahps_items = hcahps_items() %}
{%- set bottom_box = hcahps_boxes()['bottom'] %}
{%- set excerpt_chars = 200 %}
with

survey_responses as (

    select * from {{ ref('fct_survey_responses') }}

),

complaints as (

    select * from {{ ref('fct_complaints') }}

),

encounters as (

    select * from {{ ref('fct_encounters') }}

),

departments as (

    select * from {{ ref('dim_department') }}

),

survey_reasons as (

    select
        'survey' as source,
        response_id as record_id,
        encounter_id,
        department_code,
        authored_local_date as worklist_local_date,
        nps_score,
        overall_rating,
        cast(null as varchar) as complaint_category,
        comment_text as free_text,
        -- why the response is on the list, in questionnaire order; concat_ws skips the NULL parts
        concat_ws(
            '; ',
            case when nps_score <= 6 then 'detractor (NPS ' || nps_score || ')' end,
            case when overall_rating <= 6 then 'overall rating ' || overall_rating end,
            {%- for item in hcahps_items %}
            case when {{ item }} in ('{{ bottom_box | join("', '") }}')
                then 'bottom-box {{ item | replace("_", " ") }}: ' || {{ item }} end{{ ',' if not loop.last }}
            {%- endfor %}
        ) as reasons

    from survey_responses
    where is_completed

),

complaint_reasons as (

    select
        'complaint' as source,
        complaint_id as record_id,
        encounter_id,
        department_code,
        received_local_date as worklist_local_date,
        cast(null as integer) as nps_score,
        cast(null as integer) as overall_rating,
        complaint_category,
        description_text as free_text,
        'new complaint (' || coalesce(complaint_category, 'uncategorised')
            || ', via ' || coalesce(complaint_channel, '?') || ')' as reasons

    from complaints

),

listed as (

    select * from survey_reasons where reasons <> ''
    union all
    select * from complaint_reasons

),

one_line as (

    -- every Unicode space and line break (RE2's \s misses some) folded to one space
    select
        *,
        trim(regexp_replace(free_text, '[\s\x0b\x1c-\x1f\x85\pZ]+', ' ', 'g')) as free_text_one_line

    from listed

),

final as (

    select
        one_line.source || ':' || one_line.record_id as worklist_item_id,
        one_line.worklist_local_date,
        one_line.source,
        one_line.record_id,
        one_line.encounter_id,
        one_line.department_code,
        departments.department_name,
        departments.department_name_zh,
        one_line.reasons,
        one_line.nps_score,
        one_line.overall_rating,
        encounters.door_to_provider_min,
        encounters.length_of_stay_hours,
        encounters.is_lwbs,
        one_line.complaint_category,
        case
            when one_line.free_text_one_line is null then ''
            when length(one_line.free_text_one_line) <= {{ excerpt_chars }} then one_line.free_text_one_line
            else rtrim(left(one_line.free_text_one_line, {{ excerpt_chars - 1 }})) || '…'
        end as excerpt

    from one_line
    left join encounters
        on one_line.encounter_id = encounters.encounter_id
    left join departments
        on one_line.department_code = departments.department_code

)

select * from final
