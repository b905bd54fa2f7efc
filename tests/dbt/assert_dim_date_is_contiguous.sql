-- dim_date has no gaps: each day follows the previous one, and every fact date falls inside it.
with

days as (

    select
        date_day,
        lag(date_day) over (order by date_day) as previous_day

    from {{ ref('dim_date') }}

)

select date_day, previous_day
from days
where previous_day is not null
  and date_day <> previous_day + 1
