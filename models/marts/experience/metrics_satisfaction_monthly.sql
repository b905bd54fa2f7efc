-- Post-visit survey results per month of the visit × department. Each encounter counts once (its
-- first completed response). Every rate / percentage / mean over fewer than var('min_cell_size')
-- answers is NULL and flagged *_suppressed; cells with fewer than 100 responses are flagged
-- low_sample (the HCAHPS public-reporting threshold). A month before the survey feed delivered its
-- first response (or any month, when it never delivered) has no response rate: NULL, with
-- survey_source_delivered false (a KPI reads it as no_data), never 0.
{%- set hcahps_items = hcahps_items() %}
{%- set boxes = hcahps_boxes() %}
{%- set composites = hcahps_composites() %}
with

survey_responses as (

    select * from {{ ref('fct_survey_responses') }}

),

encounters as (

    select * from {{ ref('fct_encounters') }}

),

reviews_monthly as (

    select * from {{ ref('int_reviews_aggregated') }}

),

survey_feed as (

    -- the first month the survey source delivered a response for (any status): before it, and
    -- when the source never delivered, a response rate is unknown, not 0
    select min(cast(date_trunc('month', coalesce(visit_local_date, authored_local_date)) as date))
        as first_survey_month_start_date
    from survey_responses

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
      and is_lwbs is not true
      and arrived_local_date is not null
    group by all

),

wait_quartile_cuts as (

    -- door-to-provider quartiles of all the month's non-LWBS visits in the department
    select
        cast(date_trunc('month', arrived_local_date) as date) as month_start_date,
        department_code,
        count(door_to_provider_min) as door_to_provider_visits,
        count(*) as not_lwbs_visits,
        quantile_cont(door_to_provider_min, 0.25) as wait_q1_max_raw,
        quantile_cont(door_to_provider_min, 0.50) as wait_q2_max_raw,
        quantile_cont(door_to_provider_min, 0.75) as wait_q3_max_raw

    from encounters
    where is_visit
      and is_lwbs is not true
      and arrived_local_date is not null
    group by all

),

respondent_waits as (

    select
        primary_responses.response_id,
        case
            when encounters.door_to_provider_min <= wait_quartile_cuts.wait_q1_max_raw then 1
            when encounters.door_to_provider_min <= wait_quartile_cuts.wait_q2_max_raw then 2
            when encounters.door_to_provider_min <= wait_quartile_cuts.wait_q3_max_raw then 3
            else 4
        end as wait_quartile

    from primary_responses
    inner join encounters
        on primary_responses.encounter_id = encounters.encounter_id
    inner join wait_quartile_cuts
        on cast(date_trunc('month', encounters.arrived_local_date) as date) = wait_quartile_cuts.month_start_date
        and encounters.department_code = wait_quartile_cuts.department_code
    where encounters.door_to_provider_min is not null
      and encounters.is_lwbs is not true
      -- a survey of an encounter later corrected (entered-in-error: no visit) is in no quartile
      and encounters.is_visit

),

response_monthly as (

    select
        primary_responses.month_start_date,
        primary_responses.department_code,
        count(*) as responses,
        count(primary_responses.nps_score) as nps_responses,
        count(*) filter (where primary_responses.nps_category = 'promoter') as promoters,
        count(*) filter (where primary_responses.nps_category = 'passive') as passives,
        count(*) filter (where primary_responses.nps_category = 'detractor') as detractors,
        {%- for quartile in [1, 2, 3, 4] %}
        count(primary_responses.nps_score) filter (where respondent_waits.wait_quartile = {{ quartile }})
            as nps_wait_q{{ quartile }}_responses,
        count(*) filter (where respondent_waits.wait_quartile = {{ quartile }} and primary_responses.nps_category = 'promoter')
            as nps_wait_q{{ quartile }}_promoters,
        count(*) filter (where respondent_waits.wait_quartile = {{ quartile }} and primary_responses.nps_category = 'detractor')
            as nps_wait_q{{ quartile }}_detractors,
        {%- endfor %}
        count(primary_responses.overall_rating) as overall_responses,
        count(*) filter (where primary_responses.is_overall_top_box) as overall_top_box_responses,
        sum(primary_responses.overall_rating) as overall_rating_sum,
        {%- for item in hcahps_items %}
        count(primary_responses.{{ item }}) as {{ item }}_responses,
        {%- for box, answers in boxes.items() %}
        count(*) filter (where primary_responses.{{ item }} in ('{{ answers | join("', '") }}'))
            as {{ item }}_{{ box }}_box_responses{{ ',' if not loop.last }}
        {%- endfor %}{{ ',' if not loop.last }}
        {%- endfor %}

    from primary_responses
    left join respondent_waits
        on primary_responses.response_id = respondent_waits.response_id
    where primary_responses.month_start_date is not null
    group by all

),

cell_keys as (

    select month_start_date, department_code from response_monthly
    union
    select month_start_date, department_code from eligible_encounters
    union
    select month_start_date, department_code from reviews_monthly

),

joined as (

    select
        month_start_date,
        department_code,
        coalesce(eligible_encounters.eligible_encounters, 0) as eligible_encounters,
        coalesce(eligible_encounters.responded_encounters, 0) as responded_encounters,
        coalesce(wait_quartile_cuts.door_to_provider_visits, 0) as door_to_provider_visits,
        coalesce(wait_quartile_cuts.not_lwbs_visits, 0) as not_lwbs_visits,
        coalesce(month_start_date >= survey_feed.first_survey_month_start_date, false) as survey_source_delivered,
        wait_quartile_cuts.wait_q1_max_raw,
        wait_quartile_cuts.wait_q2_max_raw,
        wait_quartile_cuts.wait_q3_max_raw,
        coalesce(reviews_monthly.rated_reviews, 0) as reviews,
        reviews_monthly.rating_sum as review_rating_sum,
        response_monthly.overall_rating_sum,
        {%- set response_counts = ['responses', 'nps_responses', 'promoters', 'passives', 'detractors',
                                   'overall_responses', 'overall_top_box_responses'] %}
        {%- for quartile in [1, 2, 3, 4] %}
        {%- do response_counts.extend(['nps_wait_q' ~ quartile ~ '_responses', 'nps_wait_q' ~ quartile ~ '_promoters',
                                       'nps_wait_q' ~ quartile ~ '_detractors']) %}
        {%- endfor %}
        {%- for item in hcahps_items %}
        {%- do response_counts.append(item ~ '_responses') %}
        {%- for box in boxes %}
        {%- do response_counts.append(item ~ '_' ~ box ~ '_box_responses') %}
        {%- endfor %}
        {%- endfor %}
        {%- for column in response_counts %}
        coalesce(response_monthly.{{ column }}, 0) as {{ column }}{{ ',' if not loop.last }}
        {%- endfor %}

    from cell_keys
    left join response_monthly using (month_start_date, department_code)
    left join eligible_encounters using (month_start_date, department_code)
    left join wait_quartile_cuts using (month_start_date, department_code)
    left join reviews_monthly using (month_start_date, department_code)
    cross join survey_feed

),

final as (

    select
        {{ surrogate_key(['month_start_date', 'department_code']) }} as satisfaction_monthly_id,
        month_start_date,
        department_code,
        responses,
        {{ is_small_cell('responses') }} as is_small_cell,
        responses < 100 as low_sample,
        {%- set unit_counts = ['eligible_encounters', 'nps_responses', 'overall_responses', 'reviews',
                               'door_to_provider_visits'] %}
        {%- for quartile in [1, 2, 3, 4] %}{% do unit_counts.append('nps_wait_q' ~ quartile ~ '_responses') %}{% endfor %}
        {%- for item in hcahps_items %}{% do unit_counts.append(item ~ '_responses') %}{% endfor %}
        {{ any_suppressed(unit_counts) }} as suppressed,

        eligible_encounters,
        responded_encounters,
        survey_source_delivered,
        case when survey_source_delivered then {{ safe_rate('responded_encounters', 'eligible_encounters') }} end
            as response_rate,
        {{ is_suppressed('eligible_encounters') }} as response_rate_suppressed,

        nps_responses,
        promoters,
        passives,
        detractors,
        {{ nps('promoters', 'detractors', 'nps_responses') }} as nps,
        {{ safe_pct('promoters', 'nps_responses') }} as promoter_pct,
        {{ safe_pct('passives', 'nps_responses') }} as passive_pct,
        {{ safe_pct('detractors', 'nps_responses') }} as detractor_pct,
        {{ is_suppressed('nps_responses') }} as nps_suppressed,

        overall_responses,
        overall_top_box_responses,
        {{ safe_pct('overall_top_box_responses', 'overall_responses') }} as overall_top_box_pct,
        round({{ suppress('overall_rating_sum / nullif(overall_responses, 0)', 'overall_responses') }}, 2)
            as mean_overall_rating,
        {{ is_suppressed('overall_responses') }} as overall_suppressed,

        reviews,
        round({{ suppress('review_rating_sum / nullif(reviews, 0)', 'reviews') }}, 2) as mean_review_rating,
        {{ is_suppressed('reviews') }} as review_suppressed,

        door_to_provider_visits,
        round({{ suppress('wait_q1_max_raw', 'door_to_provider_visits') }}, 2) as wait_q1_max_min,
        round({{ suppress('wait_q2_max_raw', 'door_to_provider_visits') }}, 2) as wait_q2_max_min,
        round({{ suppress('wait_q3_max_raw', 'door_to_provider_visits') }}, 2) as wait_q3_max_min,
        not_lwbs_visits,
        {{ safe_rate('door_to_provider_visits', 'not_lwbs_visits') }} as door_to_provider_coverage_rate,
        {%- for quartile in [1, 2, 3, 4] %}
        nps_wait_q{{ quartile }}_responses,
        {{ nps('nps_wait_q' ~ quartile ~ '_promoters', 'nps_wait_q' ~ quartile ~ '_detractors',
               'nps_wait_q' ~ quartile ~ '_responses') }} as nps_wait_q{{ quartile }},
        {{ is_suppressed('nps_wait_q' ~ quartile ~ '_responses') }} as nps_wait_q{{ quartile }}_suppressed,
        {%- endfor %}
        {%- for item in hcahps_items %}

        {{ item }}_responses,
        {%- for box in boxes %}
        {{ safe_pct(item ~ '_' ~ box ~ '_box_responses', item ~ '_responses') }} as {{ item }}_{{ box }}_box_pct,
        {%- endfor %}
        {{ is_suppressed(item ~ '_responses') }} as {{ item }}_suppressed,
        {%- endfor %}
        {%- for composite, members in composites.items() %}

        {%- for box in boxes %}
        round(100.0 * (
            {%- for item in members %}
            {{ safe_rate(item ~ '_' ~ box ~ '_box_responses', item ~ '_responses') }}{{ ' +' if not loop.last }}
            {%- endfor %}
        ) / {{ members | length }}, 2) as {{ composite }}_composite_{{ box }}_box_pct,
        {%- endfor %}
        {%- set member_counts = [] %}{% for item in members %}{% do member_counts.append(item ~ '_responses') %}{% endfor %}
        {{ any_suppressed(member_counts) }} as {{ composite }}_composite_suppressed{{ ',' if not loop.last }}
        {%- endfor %}

    from joined

)

select * from final
