-- One row per post-visit survey response. The first completed response to an encounter is its
-- primary response: the one every satisfaction metric counts.
{%- set hcahps_items = hcahps_items() %}
with

survey_responses as (

    select * from {{ ref('stg_ehr__questionnaire_responses') }}

),

encounters as (

    select * from {{ ref('int_encounter_waits_derived') }}

),

departments as (

    select * from {{ ref('dim_department') }}

),

validated as (

    -- an answer outside its scale is treated as unanswered (staging keeps the raw value; the GX
    -- staging suite reports it)
    select
        * replace (
            case when nps_score between 0 and 10 then nps_score end as nps_score,
            case when overall_rating between 0 and 10 then overall_rating end as overall_rating,
            {%- for item in hcahps_items %}
            case when {{ item }} in ('never', 'sometimes', 'usually', 'always') then {{ item }} end as {{ item }}{{ ',' if not loop.last }}
            {%- endfor %}
        )

    from survey_responses

),

joined as (

    select
        validated.*,
        encounters.department_code as encounter_department_code,
        encounters.encounter_class,
        encounters.arrived_at as visit_arrived_at,
        encounters.patient_key as encounter_patient_key

    from validated
    left join encounters
        on validated.encounter_id = encounters.encounter_id

),

ranked as (

    select
        *,
        response_status in ('completed', 'amended') as is_completed,
        case
            when response_status in ('completed', 'amended') and encounter_id is not null
                then row_number() over (
                    partition by encounter_id, response_status in ('completed', 'amended')
                    order by authored_at nulls last, response_id
                )
        end as completed_response_rank

    from joined

),

final as (

    select
        ranked.response_id,
        ranked.encounter_id,
        coalesce(ranked.patient_key, ranked.encounter_patient_key, 'unknown') as patient_key,
        coalesce(departments.department_code, 'unknown') as department_code,
        ranked.encounter_class,
        ranked.response_status,
        ranked.is_completed,
        coalesce(ranked.completed_response_rank = 1, false) as is_primary_response,
        ranked.authored_at,
        {{ to_local_date('ranked.authored_at') }} as authored_local_date,
        {{ to_local_date('ranked.visit_arrived_at') }} as visit_local_date,
        {{ days_between('ranked.visit_arrived_at', 'ranked.authored_at') }} as days_from_visit_to_response,
        ranked.nps_score,
        case
            when ranked.nps_score between 9 and 10 then 'promoter'
            when ranked.nps_score between 7 and 8 then 'passive'
            when ranked.nps_score between 0 and 6 then 'detractor'
        end as nps_category,
        ranked.overall_rating,
        case when ranked.overall_rating is not null then ranked.overall_rating >= 9 end as is_overall_top_box,
        {%- for item in hcahps_items %}
        ranked.{{ item }},
        case when ranked.{{ item }} is not null then ranked.{{ item }} = 'always' end as is_{{ item }}_top_box,
        {%- endfor %}
        ranked.comment_text,
        ranked._source_file,
        ranked._row_number,
        ranked._batch_id

    from ranked
    left join departments
        on ranked.encounter_department_code = departments.department_code

)

select * from final
