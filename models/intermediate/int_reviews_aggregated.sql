-- Online reviews per month posted (hospital-local) × department: volume and rating sums, shared by
-- metrics_satisfaction_monthly (mean online rating) and metrics_loyalty_monthly (volume and rating).
with

reviews as (

    select * from {{ ref('fct_reviews') }}

),

final as (

    select
        cast(date_trunc('month', posted_local_date) as date) as month_start_date,
        department_code,
        count(*) as reviews,
        count(rating) as rated_reviews,
        sum(rating) as rating_sum,
        count(*) filter (where is_positive) as positive_reviews,
        count(*) filter (where is_negative) as negative_reviews

    from reviews
    where posted_local_date is not null
    group by all

)

select * from final
