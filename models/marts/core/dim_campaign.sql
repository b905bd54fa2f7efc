-- CRM campaigns, plus an inferred member for every campaign id a touch references that the CRM
-- never exported, plus the `unknown` member.
with

campaigns as (

    select * from {{ ref('stg_crm__campaigns') }}

),

touches as (

    select * from {{ ref('stg_crm__touches') }}

),

departments as (

    select * from {{ ref('dim_department') }}

),

channels as (

    select * from {{ ref('dim_channel') }}

),

exported as (

    select
        campaigns.campaign_id,
        campaigns.campaign_name,
        campaigns.campaign_type,
        case
            when campaigns.channel_code is null then 'unknown'
            else coalesce(channels.channel_code, 'unknown')
        end as channel_code,
        -- NULL department = a whole-hospital campaign
        case
            when campaigns.department_code is null then null
            else coalesce(departments.department_code, 'unknown')
        end as department_code,
        campaigns.start_date,
        campaigns.end_date,
        campaigns.budget_amount,
        false as is_inferred

    from campaigns
    left join channels
        on campaigns.channel_code = channels.channel_code
    left join departments
        on campaigns.department_code = departments.department_code

),

inferred as (

    select distinct
        touches.campaign_id,
        cast(null as varchar) as campaign_name,
        cast(null as varchar) as campaign_type,
        'unknown' as channel_code,
        cast(null as varchar) as department_code,
        cast(null as date) as start_date,
        cast(null as date) as end_date,
        cast(null as decimal(18, 2)) as budget_amount,
        true as is_inferred

    from touches
    left join campaigns
        on touches.campaign_id = campaigns.campaign_id
    where touches.campaign_id is not null
      and campaigns.campaign_id is null

),

unknown_member as (

    select
        'unknown' as campaign_id,
        'Unknown' as campaign_name,
        cast(null as varchar) as campaign_type,
        'unknown' as channel_code,
        cast(null as varchar) as department_code,
        cast(null as date) as start_date,
        cast(null as date) as end_date,
        cast(null as decimal(18, 2)) as budget_amount,
        false as is_inferred

),

final as (

    select * from exported
    union all
    select * from inferred
    union all
    select * from unknown_member where 'unknown' not in (select campaign_id from exported)

)

select * from final
