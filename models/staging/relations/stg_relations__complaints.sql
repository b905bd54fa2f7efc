with

source as (

    select * from {{ raw_source('relations', 'relations_complaints',
        ['complaint_id', 'patient_id', 'encounter_id', 'department', 'received_at', 'first_response_at',
         'resolved_at', 'category', 'channel', 'description']) }}

),

renamed as (

    select
        {{ clean_text('complaint_id') }} as complaint_id,
        {{ clean_text('patient_id') }} as patient_key,
        {{ clean_text('encounter_id') }} as encounter_id,
        lower({{ clean_text('department') }}) as department_code,
        {{ to_utc(clean_text('received_at')) }} as received_at,
        {{ to_utc(clean_text('first_response_at')) }} as first_response_at,
        {{ to_utc(clean_text('resolved_at')) }} as resolved_at,
        lower({{ clean_text('category') }}) as complaint_category,
        lower({{ clean_text('channel') }}) as complaint_channel,
        {{ clean_text('description') }} as description_text,
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
