-- One row per campaign (plus `organic` for touches without one): reach and engagement from CRM
-- touches, bookings and attendance, and new patients attributed under five models
-- (int_campaign_touches_attributed). Cost per new patient and ROI use the
-- var('attribution_headline_model') credits and var('new_patient_value'). The people_* funnel
-- counts one population: people touched by the campaign, each stage a subset of the one before.
{%- set models = ['first_touch', 'last_touch', 'linear', 'position_based', 'time_decay'] %}
{%- set headline = var('attribution_headline_model') %}
{%- set campaign_columns = ['campaign_id', 'campaign_name', 'campaign_type', 'channel_code', 'department_code',
                            'start_date', 'end_date', 'budget_amount'] %}
with

campaigns as (

    select * from {{ ref('dim_campaign') }}

),

touches as (

    select * from {{ ref('stg_crm__touches') }}

),

appointments as (

    select * from {{ ref('fct_appointments') }}

),

attributed as (

    select * from {{ ref('int_campaign_touches_attributed') }}

),

visits as (

    select * from {{ ref('int_patient_visits_sequenced') }}

),

touch_counts as (

    select
        coalesce(campaign_id, 'organic') as campaign_id,
        count(distinct anonymous_id) as reach,
        count(*) as touches,
        count(*) filter (where touch_action = 'impression') as impressions,
        count(*) filter (where touch_action = 'click') as clicks,
        count(*) filter (where touch_action = 'like') as likes,
        count(*) filter (where touch_action = 'comment') as comments,
        count(*) filter (where touch_action = 'share') as shares,
        count(*) filter (where touch_action = 'save') as saves,
        count(*) filter (where touch_action in ('like', 'comment', 'share', 'save')) as interactions,
        count(*) filter (where touch_action = 'booking') as bookings

    from touches
    group by all

),

booking_appointments as (

    -- a tracked booking touch is the appointment the same patient booked within an hour of it
    select
        coalesce(touches.campaign_id, 'organic') as campaign_id,
        touches.touch_id,
        appointments.encounter_id,
        appointments.appointment_status,
        appointments.is_kept

    from touches
    inner join appointments
        on touches.patient_key = appointments.patient_key
        and appointments.booked_at between touches.touched_at - interval 1 hour and touches.touched_at + interval 1 hour
    where touches.touch_action = 'booking'
    qualify row_number() over (
        partition by touches.touch_id
        order by abs(date_diff('second', touches.touched_at, appointments.booked_at)), appointments.appointment_id
    ) = 1

),

booking_outcomes as (

    select
        campaign_id,
        count(*) as bookings_matched,
        -- the appointment's outcome is known: kept, no-show or cancelled (not still booked)
        count(*) filter (where appointment_status in ('fulfilled', 'arrived', 'checked-in', 'noshow', 'cancelled'))
            as bookings_resolved,
        count(*) filter (where is_kept) as attended

    from booking_appointments
    group by all

),

person_links as (

    -- an anonymous id seen with exactly one patient is that patient (as in the attribution paths)
    {{ crm_identity_links('touches') }}

),

person_touches as (

    -- a person = the patient, else the anonymous id no patient is linked to
    select
        coalesce(touches.campaign_id, 'organic') as campaign_id,
        coalesce(touches.patient_key, person_links.linked_patient_key, 'anonymous:' || touches.anonymous_id)
            as person_id,
        touches.touch_action,
        coalesce(booking_appointments.is_kept, false) as is_booking_kept,
        coalesce(booking_appointments.is_kept and visits.is_first_visit, false) as is_booking_first_visit

    from touches
    left join person_links
        on touches.anonymous_id = person_links.anonymous_id
    left join booking_appointments
        on touches.touch_id = booking_appointments.touch_id
    left join visits
        on booking_appointments.encounter_id = visits.encounter_id
    where coalesce(touches.patient_key, touches.anonymous_id) is not null

),

person_stages as (

    -- each stage requires the one before it, so the funnel narrows by construction
    select
        campaign_id,
        person_id,
        bool_or(touch_action <> 'impression') as is_engaged,
        bool_or(touch_action <> 'impression') and bool_or(touch_action = 'booking') as is_booked,
        bool_or(touch_action = 'booking') and bool_or(is_booking_kept) as is_attended,
        bool_or(is_booking_kept) and bool_or(is_booking_first_visit) as is_new_patient

    from person_touches
    group by all

),

funnel_counts as (

    select
        campaign_id,
        count(*) as people_reached,
        count(*) filter (where is_engaged) as people_engaged,
        count(*) filter (where is_engaged and is_booked) as people_booked,
        count(*) filter (where is_engaged and is_booked and is_attended) as people_attended,
        count(*) filter (where is_engaged and is_booked and is_attended and is_new_patient) as people_new_patients

    from person_stages
    group by all

),

credits as (

    select
        campaign_id,
        count(distinct patient_key) as credited_patients,
        {%- for model in models %}
        sum({{ model }}_credit) as new_patients_{{ model }}_raw{{ ',' if not loop.last }}
        {%- endfor %}

    from attributed
    group by all

),

campaign_list as (

    select {{ campaign_columns | join(', ') }}
    from campaigns
    where campaign_id <> 'unknown'

    union all

    select
        'organic', 'Organic (no campaign)', null, 'unknown', null, null, null, null

),

joined as (

    select
        campaign_list.*,
        {%- for column in ['reach', 'touches', 'impressions', 'clicks', 'likes', 'comments', 'shares', 'saves',
                           'interactions', 'bookings'] %}
        coalesce(touch_counts.{{ column }}, 0) as {{ column }},
        {%- endfor %}
        coalesce(booking_outcomes.bookings_matched, 0) as bookings_matched,
        coalesce(booking_outcomes.bookings_resolved, 0) as bookings_resolved,
        coalesce(booking_outcomes.attended, 0) as attended,
        {%- for column in ['people_reached', 'people_engaged', 'people_booked', 'people_attended',
                           'people_new_patients'] %}
        coalesce(funnel_counts.{{ column }}, 0) as {{ column }},
        {%- endfor %}
        coalesce(credits.credited_patients, 0) as credited_patients,
        {%- for model in models %}
        coalesce(credits.new_patients_{{ model }}_raw, 0) as new_patients_{{ model }}_raw{{ ',' if not loop.last }}
        {%- endfor %}

    from campaign_list
    left join touch_counts
        on campaign_list.campaign_id = touch_counts.campaign_id
    left join booking_outcomes
        on campaign_list.campaign_id = booking_outcomes.campaign_id
    left join funnel_counts
        on campaign_list.campaign_id = funnel_counts.campaign_id
    left join credits
        on campaign_list.campaign_id = credits.campaign_id

),

final as (

    select
        {{ campaign_columns | join(',\n        ') }},
        campaign_id = 'organic' as is_organic,
        {{ any_suppressed(['impressions', 'bookings_resolved', 'credited_patients']) }} as suppressed,
        reach,
        touches,
        impressions,
        clicks,
        likes,
        comments,
        shares,
        saves,
        interactions,
        {{ safe_rate('interactions', 'impressions') }} as interaction_rate,
        {{ is_suppressed('impressions') }} as interaction_rate_suppressed,
        bookings,
        bookings_matched,
        bookings_resolved,
        attended,
        {{ safe_rate('attended', 'bookings_resolved') }} as show_rate,
        {{ is_suppressed('bookings_resolved') }} as show_rate_suppressed,
        people_reached,
        people_engaged,
        people_booked,
        people_attended,
        people_new_patients,
        credited_patients,
        {%- for model in models %}
        round(new_patients_{{ model }}_raw, 3) as new_patients_{{ model }},
        {%- endfor %}
        round({{ suppress('budget_amount / nullif(new_patients_' ~ headline ~ '_raw, 0)', 'credited_patients') }}, 2)
            as cost_per_new_patient,
        round({{ suppress(
            '(new_patients_' ~ headline ~ '_raw * ' ~ var('new_patient_value') ~ ' - budget_amount) / nullif(budget_amount, 0)',
            'credited_patients') }}, 4) as roi,
        {{ is_suppressed('credited_patients') }} as attribution_suppressed

    from joined

)

select * from final
