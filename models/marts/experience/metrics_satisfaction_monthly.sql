-- Post-visit survey results per month of the visit × department. Each encounter counts once (its
-- first completed response). Every rate / percentage over fewer than var('min_cell_size') answers is
-- NULL and flagged *_suppressed; cells with fewer than 100 responses are flagged is_low_sample.
{%- set hcahps_items = ['nurse_communication', 'doctor_communication', 'responsiveness',
                        'cleanliness', 'quietness', 'discharge_information'] %}
with

survey_responses as (

    select * from {{ ref('fct_survey_responses') }}

),

encounters as (

    select * from {{ ref('fct_encounters') }}

),

primary_responses as (

    select
        cast(date_trunc('month', coalesce(visit_local_date, authored_local_date)) as date) as month_start_date,
        *

    from survey_responses
    where is_primary_response

),

eligible_encounters as (

    -- finished visits (LWBS excluded) are the ones a survey is sent for
    select
        cast(date_trunc('month', arrived_local_date) as date) as month_start_date,
        department_code,
        count(*) as eligible_encounters,
        count(survey_response_id) as responded_encounters

    from encounters
    where is_visit
      and encounter_status = 'finished'
      and not is_lwbs
      and arrived_local_date is not null
    group by all

),

response_monthly as (

    select
        month_start_date,
        department_code,
        count(*) as responses,
        count(nps_score) as nps_responses,
        count(*) filter (where nps_category = 'promoter') as promoters,
        count(*) filter (where nps_category = 'passive') as passives,
        count(*) filter (where nps_category = 'detractor') as detractors,
        count(overall_rating) as overall_responses,
        count(*) filter (where is_overall_top_box) as overall_top_box_responses,
        avg(overall_rating) as mean_overall_rating_raw,
        {%- for item in hcahps_items %}
        count({{ item }}) as {{ item }}_responses,
        count(*) filter (where is_{{ item }}_top_box) as {{ item }}_top_box_responses{{ ',' if not loop.last }}
        {%- endfor %}

    from primary_responses
    where month_start_date is not null
    group by all

),

joined as (

    select
        coalesce(response_monthly.month_start_date, eligible_encounters.month_start_date) as month_start_date,
        coalesce(response_monthly.department_code, eligible_encounters.department_code) as department_code,
        coalesce(eligible_encounters.eligible_encounters, 0) as eligible_encounters,
        coalesce(eligible_encounters.responded_encounters, 0) as responded_encounters,
        coalesce(response_monthly.responses, 0) as responses,
        coalesce(response_monthly.nps_responses, 0) as nps_responses,
        coalesce(response_monthly.promoters, 0) as promoters,
        coalesce(response_monthly.passives, 0) as passives,
        coalesce(response_monthly.detractors, 0) as detractors,
        coalesce(response_monthly.overall_responses, 0) as overall_responses,
        coalesce(response_monthly.overall_top_box_responses, 0) as overall_top_box_responses,
        response_monthly.mean_overall_rating_raw,
        {%- for item in hcahps_items %}
        coalesce(response_monthly.{{ item }}_responses, 0) as {{ item }}_responses,
        coalesce(response_monthly.{{ item }}_top_box_responses, 0) as {{ item }}_top_box_responses{{ ',' if not loop.last }}
        {%- endfor %}

    from response_monthly
    full outer join eligible_encounters
        on response_monthly.month_start_date = eligible_encounters.month_start_date
        and response_monthly.department_code = eligible_encounters.department_code

),

final as (

    select
        {{ surrogate_key(['month_start_date', 'department_code']) }} as satisfaction_monthly_id,
        month_start_date,
        department_code,
        responses,
        {{ is_suppressed('responses') }} as is_small_cell,
        responses < 100 as is_low_sample,

        eligible_encounters,
        responded_encounters,
        {{ safe_rate('responded_encounters', 'eligible_encounters') }} as response_rate,
        {{ is_suppressed('eligible_encounters') }} as response_rate_suppressed,

        nps_responses,
        promoters,
        passives,
        detractors,
        round({{ suppress('100.0 * (promoters - detractors) / nullif(nps_responses, 0)', 'nps_responses') }}, 2) as nps,
        round(100.0 * {{ safe_rate('promoters', 'nps_responses') }}, 2) as promoter_pct,
        round(100.0 * {{ safe_rate('passives', 'nps_responses') }}, 2) as passive_pct,
        round(100.0 * {{ safe_rate('detractors', 'nps_responses') }}, 2) as detractor_pct,
        {{ is_suppressed('nps_responses') }} as nps_suppressed,

        overall_responses,
        overall_top_box_responses,
        round(100.0 * {{ safe_rate('overall_top_box_responses', 'overall_responses') }}, 2) as overall_top_box_pct,
        round({{ suppress('mean_overall_rating_raw', 'overall_responses') }}, 2) as mean_overall_rating,
        {{ is_suppressed('overall_responses') }} as overall_suppressed,
        {%- for item in hcahps_items %}

        {{ item }}_responses,
        round(100.0 * {{ safe_rate(item ~ '_top_box_responses', item ~ '_responses') }}, 2)
            as {{ item }}_top_box_pct,
        {{ is_suppressed(item ~ '_responses') }} as {{ item }}_suppressed{{ ',' if not loop.last }}
        {%- endfor %}

    from joined

)

select * from final
