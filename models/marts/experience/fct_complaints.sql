-- One row per complaint, with response and resolution times (resolution in working days of the
-- hospital calendar).
with

complaints as (

    select * from {{ ref('stg_relations__complaints') }}

),

dates as (

    select * from {{ ref('dim_date') }}

),

departments as (

    select * from {{ ref('dim_department') }}

),

patients as (

    select * from {{ ref('dim_patient') }}

),

coverage as (

    -- the latest complaint activity recorded (received, answered or closed)
    select max(greatest(received_at, first_response_at, resolved_at)) as complaints_as_of_at
    from complaints

),

localized as (

    select
        complaints.*,
        {{ to_local_date('complaints.received_at') }} as received_local_date,
        {{ to_local_date('complaints.resolved_at') }} as resolved_local_date

    from complaints

),

working_days as (

    -- working days after the day of receipt, up to and including the day of resolution
    select
        localized.complaint_id,
        count(dates.date_day) as working_days_to_resolution

    from localized
    left join dates
        on dates.date_day > localized.received_local_date
        and dates.date_day <= localized.resolved_local_date
        and dates.is_working_day
    where localized.resolved_local_date is not null
    group by localized.complaint_id

),

working_days_elapsed as (

    -- working days after the day of receipt up to and including the last day of data
    select
        localized.complaint_id,
        count(dates.date_day) as working_days_elapsed

    from localized
    cross join coverage
    left join dates
        on dates.date_day > localized.received_local_date
        and dates.date_day <= {{ to_local_date('coverage.complaints_as_of_at') }}
        and dates.is_working_day
    group by localized.complaint_id

),

final as (

    select
        localized.complaint_id,
        -- anonymous, or a person the EHR has not exported yet: `unknown`
        coalesce(patients.patient_key, 'unknown') as patient_key,
        localized.encounter_id,
        case
            when localized.department_code is null then 'unknown'
            else coalesce(departments.department_code, 'unknown')
        end as department_code,
        localized.complaint_category,
        localized.complaint_channel,
        localized.received_at,
        localized.first_response_at,
        localized.resolved_at,
        localized.received_local_date,
        localized.resolved_local_date,
        {{ hours_between('localized.received_at', 'localized.first_response_at') }} as hours_to_first_response,
        working_days.working_days_to_resolution,
        localized.first_response_at is not null
            and localized.first_response_at <= localized.received_at + interval 24 hour
            as is_responded_within_24h,
        -- the 24-hour window is over (answered, or received at least 24 h before the data ends):
        -- only these complaints enter the response-within-24-h rate
        (
            localized.first_response_at is not null
            or localized.received_at + interval 24 hour <= coverage.complaints_as_of_at
        ) as is_response_window_closed,
        localized.resolved_at is not null as is_resolved,
        coalesce(working_days.working_days_to_resolution <= 7, false) as is_resolved_within_7_working_days,
        -- resolved, or 7 working days have passed in the data: only these complaints enter the
        -- resolution-within-7-working-days rate
        (localized.resolved_at is not null or working_days_elapsed.working_days_elapsed >= 7)
            as is_resolution_window_closed,
        localized.description_text,
        localized._source_file,
        localized._row_number,
        localized._batch_id

    from localized
    left join working_days
        on localized.complaint_id = working_days.complaint_id
    left join working_days_elapsed
        on localized.complaint_id = working_days_elapsed.complaint_id
    left join departments
        on localized.department_code = departments.department_code
    left join patients
        on localized.patient_key = patients.patient_key
    cross join coverage

)

select * from final
