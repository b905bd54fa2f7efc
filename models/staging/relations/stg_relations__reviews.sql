with

source as (

    select * from {{ raw_source('relations', 'relations_reviews',
        ['review_id', 'platform', 'department', 'rating', 'text', 'posted_at']) }}

),

renamed as (

    select
        {{ clean_text('review_id') }} as review_id,
        lower({{ clean_text('platform') }}) as review_platform,
        lower({{ clean_text('department') }}) as department_code,
        try_cast({{ clean_text('rating') }} as integer) as rating,
        {{ clean_text('text') }} as review_text,
        {{ to_utc(clean_text('posted_at')) }} as posted_at,
        {{ lineage_columns() }}

    from source

),

final as (

    select *
    from renamed
    where review_id is not null
    {{ latest_version('review_id') }}

)

select * from final
