with

source as (

    select * from {{ raw_source('ehr', 'ehr_patient') }}

),

renamed as (

    select
        coalesce(resource_id, resource ->> '$.id') as patient_key,
        lower(resource ->> '$.gender') as gender,
        try_cast(resource ->> '$._journey.birthYear' as integer) as birth_year,
        {{ clean_text("resource ->> '$._journey.region'") }} as region,
        {{ to_utc("resource ->> '$.meta.lastUpdated'") }} as last_updated_at,
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
    where patient_key is not null
    qualify row_number() over (
        partition by patient_key
        order by last_updated_at desc nulls last, {{ lineage_order() }}
    ) = 1

)

select * from final
