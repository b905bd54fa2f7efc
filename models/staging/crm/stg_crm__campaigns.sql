-- One row per campaign: upsert by campaign_id, the latest drop wins.
with

source as (

    select * from {{ raw_source('crm', 'crm_campaigns',
        ['campaign_id', 'name', 'type', 'channel', 'department', 'start_date', 'end_date', 'budget']) }}

),

renamed as (

    select
        {{ clean_text('campaign_id') }} as campaign_id,
        {{ clean_text('name') }} as campaign_name,
        lower({{ clean_text('type') }}) as campaign_type,
        lower({{ clean_text('channel') }}) as channel_code,
        lower({{ clean_text('department') }}) as department_code,
        try_cast({{ clean_text('start_date') }} as date) as start_date,
        try_cast({{ clean_text('end_date') }} as date) as end_date,
        try_cast({{ clean_text('budget') }} as decimal(18, 2)) as budget_amount,
        {{ lineage_columns() }}

    from source

),

final as (

    select *
    from renamed
    where campaign_id is not null
    {{ latest_version('campaign_id') }}

)

select * from final
