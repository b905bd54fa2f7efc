-- One row per CRM touch (the latest delivery of each touch_id wins).
-- Incremental by touch_id (macros/staging.sql, "Incremental staging"): touches are the largest
-- CSV/JSONL source and grow every day.
{{ config(pre_hook="{{ text_staging_hook('crm', 'crm_touches', 'touches', 'touch_id', 'touch_id') }}") }}
with

source as (

    select * from {{ raw_source('crm', 'crm_touches',
        ['touch_id', 'ts', 'anonymous_id', 'patient_id', 'channel', 'campaign_id', 'action']) }}
    {% if is_incremental() %}
    where {{ clean_text('touch_id') }} in (select changed_key from {{ changed_keys_relation() }})
    {% endif %}

),

renamed as (

    select
        {{ clean_text('touch_id') }} as touch_id,
        {{ to_utc('ts') }} as touched_at,
        {{ clean_text('anonymous_id') }} as anonymous_id,
        {{ clean_text('patient_id') }} as patient_key,
        {{ known_code('channel', 'channels') }} as channel_code,
        {{ code_null_reason('channel', 'channels') }} as channel_null_reason,
        {{ clean_text('campaign_id') }} as campaign_id,
        lower({{ clean_text('action') }}) as touch_action,
        {{ unreadable_values([time_problem('ts', 'ts')]) }} as unreadable_values,
        {{ lineage_columns() }}

    from source

),

final as (

    select *
    from renamed
    where touch_id is not null
    {{ latest_version('touch_id') }}

)

select * from final
