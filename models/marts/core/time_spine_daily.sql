-- MetricFlow's daily time spine (models/marts/core/_semantic_models.yml): one row per day of the
-- hospital-local calendar in dim_date. metric_time__week / __month / __quarter / __year are derived
-- from it.
with

dates as (

    select * from {{ ref('dim_date') }}

),

final as (

    select date_day
    from dates

)

select * from final
