-- Incremental by complaint_id (macros/staging.sql, "Incremental staging"): a producer of the change feed
-- int_touchpoints_unioned reads (macros/change_feed.sql).
{{ config(pre_hook="{{ text_staging_hook('relations', 'relations_complaints', 'complaints', 'complaint_id', 'complaint_id') }}") }}
with

source as (

    select * from {{ raw_source('relations', 'relations_complaints',
        ['complaint_id', 'patient_id', 'encounter_id', 'department', 'received_at', 'first_response_at',
         'resolved_at', 'category', 'channel', 'description']) }}
    {% if is_incremental() %}
    where {{ clean_text('complaint_id') }} in (select changed_key from {{ changed_keys_relation() }})
    {% endif %}

),

renamed as (

    select
        {{ clean_text('complaint_id') }} as complaint_id,
        {{ clean_text('patient_id') }} as patient_key,
        {{ clean_text('encounter_id') }} as encounter_id,
        {{ known_code('department', 'departments', 'department') }} as department_code,
        {{ code_null_reason('department', 'departments', 'department') }} as department_null_reason,
        {{ to_utc('received_at') }} as received_at,
        {{ to_utc('first_response_at') }} as first_response_at,
        {{ to_utc('resolved_at') }} as resolved_at,
        {{ known_code('category', 'complaint_category') }} as complaint_category,
        {{ code_null_reason('category', 'complaint_category') }} as complaint_category_null_reason,
        {{ known_code('channel', 'complaint_channel') }} as complaint_channel,
        {{ code_null_reason('channel', 'complaint_channel') }} as complaint_channel_null_reason,
        {{ clean_text('description') }} as description_text,
        {{ unreadable_values([
            time_problem('received_at', 'received_at'),
            time_problem('first_response_at', 'first_response_at'),
            time_problem('resolved_at', 'resolved_at'),
        ]) }} as unreadable_values,
        {{ lineage_columns() }}

    from source

),

final as (

    select *
    from renamed
    where complaint_id is not null
    {{ latest_version('complaint_id') }}

)

select * from final
