-- Patient retention by first-visit cohort: for each month of a patient's first visit in the data and
-- each month since (0 = the first month itself), the share of the cohort's patients with a visit in
-- that month (month 0: a second visit in the first month). Months after the last arrival in the data
-- are not listed; the last listed month may be partial (is_month_complete).
with

visits as (

    select * from {{ ref('int_patient_visits_sequenced') }}

),

patient_visits as (

    select
        patient_key,
        visit_number,
        cast(date_trunc('month', {{ to_local_date('arrived_at') }}) as date) as visit_month_start_date

    from visits

),

cohorts as (

    select
        patient_key,
        visit_month_start_date as cohort_month_start_date

    from patient_visits
    where visit_number = 1

),

cohort_sizes as (

    select
        cohort_month_start_date,
        count(*) as cohort_patients

    from cohorts
    group by all

),

data_end as (

    select
        {{ to_local_date('max(visits_as_of_at)') }} as last_visit_local_date,
        cast(date_trunc('month', {{ to_local_date('max(visits_as_of_at)') }}) as date) as last_month_start_date

    from visits

),

spine as (

    select
        cohort_sizes.cohort_month_start_date,
        cohort_sizes.cohort_patients,
        cast(months.months_since_first_visit as integer) as months_since_first_visit,
        cast(cohort_sizes.cohort_month_start_date + to_months(cast(months.months_since_first_visit as integer)) as date)
            as activity_month_start_date

    from cohort_sizes
    cross join data_end,
        unnest(range(0, date_diff('month', cohort_sizes.cohort_month_start_date, data_end.last_month_start_date) + 1))
            as months (months_since_first_visit)

),

returns as (

    select
        cohorts.cohort_month_start_date,
        date_diff('month', cohorts.cohort_month_start_date, patient_visits.visit_month_start_date)
            as months_since_first_visit,
        count(distinct cohorts.patient_key) as returning_patients

    from cohorts
    inner join patient_visits
        on cohorts.patient_key = patient_visits.patient_key
        and patient_visits.visit_number > 1
    group by all

),

final as (

    select
        {{ surrogate_key(['spine.cohort_month_start_date', 'spine.months_since_first_visit']) }}
            as cohort_retention_id,
        spine.cohort_month_start_date,
        spine.months_since_first_visit,
        spine.activity_month_start_date,
        last_day(spine.activity_month_start_date) <= data_end.last_visit_local_date as is_month_complete,
        spine.cohort_patients,
        {{ is_small_cell('spine.cohort_patients') }} as is_small_cell,
        coalesce(returns.returning_patients, 0) as returning_patients,
        {{ safe_rate('coalesce(returns.returning_patients, 0)', 'spine.cohort_patients') }} as retention_rate,
        {{ is_suppressed('spine.cohort_patients') }} as suppressed

    from spine
    cross join data_end
    left join returns
        on spine.cohort_month_start_date = returns.cohort_month_start_date
        and spine.months_since_first_visit = returns.months_since_first_visit

)

select * from final
