-- Under every attribution model, the credits of one converted patient sum to 1 (organic included).
with

credits as (

    select
        patient_key,
        sum(first_touch_credit) as first_touch,
        sum(last_touch_credit) as last_touch,
        sum(linear_credit) as linear,
        sum(position_based_credit) as position_based,
        sum(time_decay_credit) as time_decay

    from {{ ref('int_campaign_touches_attributed') }}
    group by patient_key

)

select *
from credits
where abs(first_touch - 1) > 1e-9
   or abs(last_touch - 1) > 1e-9
   or abs(linear - 1) > 1e-9
   or abs(position_based - 1) > 1e-9
   or abs(time_decay - 1) > 1e-9
