-- One row per campaign: upsert by campaign_id, the latest drop wins.
-- Incremental by campaign_id (macros/staging.sql, "Incremental staging"): a producer of the change feed
-- int_touchpoints_unioned reads (macros/change_feed.sql).
{{ config(pre_hook="{{ text_staging_hook('crm', 'crm_campaigns', 'campaigns', 'campaign_id', 'campaign_id') }}") }}
with

source as (

    select * from {{ raw_source('crm', 'crm_campaigns',
        ['campaign_id', 'name', 'type', 'channel', 'department', 'start_date', 'end_date', 'budget']) }}
    {% if is_incremental() %}
    where {{ clean_text('campaign_id') }} in (select changed_key from {{ changed_keys_relation() }})
    {% endif %}

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
