-- Multi-touch attribution of new patients to campaigns: one row per CRM touch on a new patient's
-- path, with its credit under five models. A new patient converts at the first kept visit (the first
-- visit that happened, int_patient_visits_sequenced.is_first_visit): a booking never attended converts
-- nothing. The path is every CRM touch of that person in the var('attribution_lookback_days') days
-- before the arrival. Touches made under an anonymous id count for the patient that id was later
-- linked to (a touch carrying both). Organic touches (no campaign) take credit as `organic`, so the
-- credits of one patient always sum to 1 under every model.
--   first_touch     1 to the earliest touch
--   last_touch      1 to the latest touch
--   linear          1 / n to each of the n touches
--   position_based  40 % first, 40 % last, 20 % shared by the middle (n = 1: 100 %; n = 2: 50 / 50)
--   time_decay      weight 0.5 ^ (days before the visit / var('attribution_half_life_days')), normalised
with

touches as (

    select * from {{ ref('stg_crm__touches') }}

),

visits as (

    select * from {{ ref('int_patient_visits_sequenced') }}

),

identity_links as (

    -- an anonymous id linked to exactly one patient
    {{ crm_identity_links('touches') }}

),

identified_touches as (

    select
        touches.touch_id,
        coalesce(touches.patient_key, identity_links.linked_patient_key) as patient_key,
        coalesce(touches.campaign_id, 'organic') as campaign_id,
        touches.touch_action,
        touches.touched_at

    from touches
    left join identity_links
        on touches.anonymous_id = identity_links.anonymous_id
    where touches.touched_at is not null

),

conversions as (

    select
        patient_key,
        encounter_id as conversion_encounter_id,
        arrived_at as converted_at

    from visits
    where is_first_visit

),

paths as (

    select
        identified_touches.touch_id,
        identified_touches.patient_key,
        identified_touches.campaign_id,
        identified_touches.touch_action,
        identified_touches.touched_at,
        conversions.conversion_encounter_id,
        conversions.converted_at,
        date_diff('second', identified_touches.touched_at, conversions.converted_at) / 86400.0
            as days_before_conversion

    from identified_touches
    inner join conversions
        on identified_touches.patient_key = conversions.patient_key
    where identified_touches.touched_at < conversions.converted_at
      and identified_touches.touched_at >= conversions.converted_at - interval {{ var('attribution_lookback_days') }} day

),

positioned as (

    select
        *,
        row_number() over (partition by patient_key order by touched_at, touch_id) as touch_position,
        count(*) over (partition by patient_key) as path_touches,
        pow(0.5, days_before_conversion / {{ var('attribution_half_life_days') }}) as decay_weight

    from paths

),

final as (

    select
        touch_id,
        patient_key,
        campaign_id,
        touch_action,
        touched_at,
        conversion_encounter_id,
        converted_at,
        round(days_before_conversion, 3) as days_before_conversion,
        touch_position,
        path_touches,
        case when touch_position = 1 then 1.0 else 0.0 end as first_touch_credit,
        case when touch_position = path_touches then 1.0 else 0.0 end as last_touch_credit,
        1.0 / path_touches as linear_credit,
        case
            when path_touches = 1 then 1.0
            when path_touches = 2 then 0.5
            when touch_position in (1, path_touches) then 0.4
            else 0.2 / (path_touches - 2)
        end as position_based_credit,
        decay_weight / sum(decay_weight) over (partition by patient_key) as time_decay_credit

    from positioned

)

select * from final
