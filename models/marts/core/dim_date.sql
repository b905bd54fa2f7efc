-- The hospital-local calendar, whole years spanning every date in the data, with the mainland China
-- public holidays and make-up working days (调休) from seeds/holidays.csv.
with

touchpoints as (

    select * from {{ ref('int_touchpoints_unioned') }}

),

encounters as (

    select * from {{ ref('int_encounter_waits_derived') }}

),

appointments as (

    select * from {{ ref('stg_ehr__appointments') }}

),

follow_ups as (

    select * from {{ ref('stg_relations__follow_ups') }}

),

complaints as (

    select * from {{ ref('stg_relations__complaints') }}

),

campaigns as (

    select * from {{ ref('stg_crm__campaigns') }}

),

holidays as (

    select * from {{ ref('holidays') }}

),

data_instants as (

    -- the earliest and latest instant of each source, in UTC (a min/max over the column; turning every
    -- timestamp of history into a local date first made this small table take seconds a night)
    select min(occurred_at) as earliest_at, max(occurred_at) as latest_at from touchpoints
    union all
    select min(least(period_start_at, period_end_at)), max(greatest(period_start_at, period_end_at)) from encounters
    union all
    select min(least(start_at, cancelled_at)), max(greatest(start_at, cancelled_at)) from appointments
    union all
    select min(planned_at), max(planned_at) from follow_ups
    union all
    select min(least(first_response_at, resolved_at)), max(greatest(first_response_at, resolved_at)) from complaints

),

data_dates as (

    -- (least/greatest skip NULLs.) The local date of an instant does not decrease as the instant
    -- grows (a clock set back at the end of daylight saving time repeats an hour of the same date),
    -- so the local dates of the earliest and latest instants are the earliest and latest local dates;
    -- only a zone that set its clock back across midnight breaks this, for that hour (none of
    -- mainland China's: Asia/Shanghai has had no DST since 1991)
    select {{ to_local_date('earliest_at') }} as date_day from data_instants
    union all
    select {{ to_local_date('latest_at') }} from data_instants
    union all
    select start_date from campaigns
    union all
    select end_date from campaigns

),

bounds as (

    select
        make_date(cast(extract(year from coalesce(min(date_day), current_date)) as integer), 1, 1) as first_day,
        make_date(cast(extract(year from coalesce(max(date_day), current_date)) as integer), 12, 31) as last_day

    from data_dates

),

spine as (

    select cast(calendar.date_day as date) as date_day
    from bounds,
        unnest(generate_series(
            cast(bounds.first_day as timestamp), cast(bounds.last_day as timestamp), interval 1 day
        )) as calendar (date_day)

),

holiday_days as (

    select
        cast(holiday_date as date) as holiday_date,
        day_type,
        name as holiday_name,
        name_zh as holiday_name_zh

    from holidays

),

final as (

    select
        spine.date_day,
        cast(extract(year from spine.date_day) as integer) as year_number,
        cast(extract(quarter from spine.date_day) as integer) as quarter_number,
        cast(extract(month from spine.date_day) as integer) as month_number,
        cast(date_trunc('month', spine.date_day) as date) as month_start_date,
        cast(extract(isoyear from spine.date_day) as integer) as iso_year_number,
        cast(extract(week from spine.date_day) as integer) as iso_week_number,
        cast(isodow(spine.date_day) as integer) as iso_day_of_week,
        dayname(spine.date_day) as day_name,
        isodow(spine.date_day) in (6, 7) as is_weekend,
        coalesce(holiday_days.day_type = 'holiday', false) as is_holiday,
        coalesce(holiday_days.day_type = 'makeup_workday', false) as is_makeup_workday,
        holiday_days.holiday_name,
        holiday_days.holiday_name_zh,
        case
            when holiday_days.day_type = 'holiday' then false
            when holiday_days.day_type = 'makeup_workday' then true
            else isodow(spine.date_day) not in (6, 7)
        end as is_working_day

    from spine
    left join holiday_days
        on spine.date_day = holiday_days.holiday_date

)

select * from final
