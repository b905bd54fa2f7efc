-- One row per public online review.
with

reviews as (

    select * from {{ ref('stg_relations__reviews') }}

),

departments as (

    select * from {{ ref('dim_department') }}

),

final as (

    select
        reviews.review_id,
        reviews.review_platform,
        case
            when reviews.department_code is null then 'unknown'
            else coalesce(departments.department_code, 'unknown')
        end as department_code,
        reviews.rating,
        reviews.rating >= 4 as is_positive,
        reviews.rating <= 2 as is_negative,
        reviews.review_text,
        reviews.posted_at,
        {{ to_local_date('reviews.posted_at') }} as posted_local_date,
        reviews._source_file,
        reviews._row_number,
        reviews._batch_id

    from reviews
    left join departments
        on reviews.department_code = departments.department_code

)

select * from final
