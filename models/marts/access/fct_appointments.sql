-- One row per appointment (latest version), with the encounter that fulfilled it.
with

appointments as (

    select * from {{ ref('stg_ehr__appointments') }}

),

encounters as (

    select * from {{ ref('int_encounter_waits_derived') }}

),

departments as (

    select * from {{ ref('dim_department') }}

),

channels as (

    select * from {{ ref('dim_channel') }}

),

fulfilling_encounters as (

    select
        appointment_id,
        encounter_id,
        encounter_class

    from encounters
    where appointment_id is not null
      and encounter_status <> 'entered-in-error'
    qualify row_number() over (partition by appointment_id order by arrived_at nulls last, encounter_id) = 1

),

joined as (

    select
        appointments.*,
        fulfilling_encounters.encounter_id,
        -- appointments carry no class; an unfulfilled appointment is an outpatient (AMB) booking, a
        -- fulfilled one takes its encounter's class ('unmapped' when that class is not mapped)
        case
            when fulfilling_encounters.encounter_id is null then 'AMB'
            else {{ metric_class('fulfilling_encounters.encounter_class') }}
        end as encounter_class,
        coalesce(departments.department_code, 'unknown') as mart_department_code,
        coalesce(channels.channel_code, 'unknown') as mart_channel_code

    from appointments
    left join fulfilling_encounters
        on appointments.appointment_id = fulfilling_encounters.appointment_id
    left join departments
        on appointments.department_code = departments.department_code
    left join channels
        on appointments.booking_channel_code = channels.channel_code

),

final as (

    select
        appointment_id,
        coalesce(patient_key, 'unknown') as patient_key,
        mart_department_code as department_code,
        mart_channel_code as booking_channel_code,
        encounter_id,
        encounter_class,
        appointment_status,
        practitioner_id,
        slot_id,
        booked_at,
        start_at,
        end_at,
        cancelled_at,
        cancellation_reason_code,
        {{ to_local_date('booked_at') }} as booked_local_date,
        {{ to_local_date('start_at') }} as start_local_date,
        {{ days_between('booked_at', 'start_at') }} as booking_lead_time_days,
        {{ hours_between('cancelled_at', 'start_at') }} as hours_cancelled_before_start,
        appointment_status = 'noshow' as is_no_show,
        appointment_status = 'cancelled' as is_cancelled,
        appointment_status in ('fulfilled', 'arrived', 'checked-in') as is_kept,
        -- cancelled inside the notice window (var late_cancel_notice_hours, default 24 h) before the
        -- start, or after it; unknown when the cancel time is missing
        case
            when appointment_status <> 'cancelled' then false
            when cancelled_at is null or start_at is null then null
            else cancelled_at >= start_at - interval {{ var('late_cancel_notice_hours') }} hour
        end as is_late_cancel,
        -- appointments whose outcome is known: kept or no-show (the no-show denominator)
        appointment_status in ('fulfilled', 'arrived', 'checked-in', 'noshow') as is_due,
        -- appointments that were booked at some point (the late-cancel and lead-time population)
        appointment_status in ('booked', 'arrived', 'checked-in', 'fulfilled', 'noshow', 'cancelled')
            as is_scheduled

    from joined

)

select * from final
