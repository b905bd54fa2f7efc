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
        {{ known_code('type', 'campaign_type') }} as campaign_type,
        {{ code_null_reason('type', 'campaign_type') }} as campaign_type_null_reason,
        {{ known_code('channel', 'channels') }} as channel_code,
        {{ code_null_reason('channel', 'channels') }} as channel_null_reason,
        {{ known_code('department', 'departments', 'department') }} as department_code,
        {{ code_null_reason('department', 'departments', 'department') }} as department_null_reason,
        {{ to_date('start_date') }} as start_date,
        {{ to_date('end_date') }} as end_date,
        {{ parse_decimal('budget') }} as budget_amount,
        {{ unreadable_values([
            date_problem('start_date', 'start_date'),
            date_problem('end_date', 'end_date'),
            decimal_problem('budget', 'budget'),
        ]) }} as unreadable_values,
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
