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
        _source_file,
        _row_number,
        _batch_id,
        _landing_date,
        _loaded_at

    from source

),

final as (

    select *
    from renamed
    where complaint_id is not null
    qualify row_number() over (partition by complaint_id order by {{ lineage_order() }}) = 1

)

select * from final
