-- Every dimension carries its `unknown` member, so facts that map missing references to it never
-- vanish in an inner join.
with

members as (

    select 'dim_patient' as dimension, count(*) filter (where patient_key = 'unknown') as unknown_rows
    from {{ ref('dim_patient') }}
    union all
    select 'dim_department', count(*) filter (where department_code = 'unknown')
    from {{ ref('dim_department') }}
    union all
    select 'dim_channel', count(*) filter (where channel_code = 'unknown')
    from {{ ref('dim_channel') }}
    union all
    select 'dim_campaign', count(*) filter (where campaign_id = 'unknown')
    from {{ ref('dim_campaign') }}

)

select * from members where unknown_rows <> 1
