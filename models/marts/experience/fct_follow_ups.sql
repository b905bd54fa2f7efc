-- One row per post-discharge follow-up call.
with

follow_ups as (

    select * from {{ ref('stg_relations__follow_ups') }}

),

encounters as (

    select * from {{ ref('int_encounter_waits_derived') }}

),

departments as (

    select * from {{ ref('dim_department') }}

),

coverage as (

    -- the latest call activity recorded: calls planned later were not yet due when exported
    select max(coalesce(completed_at, attempted_at)) as follow_ups_as_of_at
    from follow_ups

),

described as (

    select
        follow_ups.follow_up_id,
        follow_ups.encounter_id,
        -- the call's encounter is staged (not refused or never exported): only such a call names a
        -- discharge, the unit of the follow-up metrics
        encounters.encounter_id is not null as has_encounter,
        coalesce(encounters.patient_key, 'unknown') as patient_key,
        coalesce(departments.department_code, 'unknown') as department_code,
        encounters.encounter_class,
        follow_ups.planned_day,
        encounters.departed_at as discharged_at,
        follow_ups.planned_at,
        follow_ups.attempted_at,
        follow_ups.completed_at,
        follow_ups.outcome,
        {{ to_local_date('coalesce(follow_ups.planned_at, encounters.departed_at)') }} as planned_local_date,
        {{ to_local_date('encounters.departed_at') }} as discharged_local_date,
        -- window k: from the discharge to the end of local day (discharge date + planned_day); without
        -- a known discharge, to the end of the planned day
        coalesce(
            {{ to_local_date('encounters.departed_at') }} + follow_ups.planned_day,
            {{ to_local_date('follow_ups.planned_at') }}
        ) as window_end_local_date,
        follow_ups.attempted_at is not null as is_attempted,
        follow_ups.completed_at is not null as is_completed,
        coalesce(follow_ups.planned_at <= coverage.follow_ups_as_of_at, false) as is_due,
        {{ hours_between('follow_ups.planned_at', 'follow_ups.completed_at') }} as hours_from_plan_to_completion,
        follow_ups._source_file,
        follow_ups._row_number,
        follow_ups._batch_id,
        {{ to_local_date('coverage.follow_ups_as_of_at') }} as follow_ups_as_of_local_date

    from follow_ups
    left join encounters
        on follow_ups.encounter_id = encounters.encounter_id
    left join departments
        on coalesce(encounters.department_code, 'unknown') = departments.department_code
    cross join coverage

),

final as (

    select
        described.* exclude (follow_ups_as_of_local_date),
        -- reached inside window k (on time)
        coalesce(
            completed_at >= coalesce(discharged_at, planned_at)
            and {{ to_local_date('completed_at') }} <= window_end_local_date,
            false
        ) as is_completed_on_time,
        -- the window is over in the data (or the call already succeeded inside it): only these
        -- discharges enter the on-time rate, so the latest days do not look artificially bad
        coalesce(
            window_end_local_date < follow_ups_as_of_local_date
            or (completed_at is not null and {{ to_local_date('completed_at') }} <= window_end_local_date),
            false
        ) as is_window_closed

    from described

)

select * from final
