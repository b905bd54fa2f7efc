-- Waits, LWBS and appointment access per hospital-local day × department × encounter class, up to
-- the last day any source recorded (the latest arrival or appointment activity): an
-- appointments-only landing publishes its scheduling metrics.
-- Percentiles are quantile_cont (linear interpolation) over the exact values of the units having
-- both timestamps, rounded once here. Every rate / percentile over fewer than var('min_cell_size')
-- units is NULL and flagged *_suppressed. Each core metric carries its coverage: the share of the
-- cell's visits that had the evidence (*_coverage_rate).
with

encounters as (

    select * from {{ ref('fct_encounters') }}

),

appointments as (

    select * from {{ ref('fct_appointments') }}

),

wait_targets as (

    select * from {{ ref('wait_targets') }}

),

visits as (

    select * replace ({{ metric_class('encounter_class') }} as encounter_class)
    from encounters
    where is_visit
      and arrived_local_date is not null

),

encounter_daily as (

    select
        arrived_local_date as metric_date,
        department_code,
        encounter_class,
        count(*) as encounters,
        count(*) filter (where timestamp_source = 'status_history') as status_history_source_encounters,
        count(*) filter (where timestamp_source = 'location') as location_source_encounters,
        count(*) filter (where timestamp_source = 'none') as no_source_encounters,
        count(door_to_triage_min) as door_to_triage_n,
        quantile_cont(door_to_triage_min, 0.5) as door_to_triage_p50_raw,
        quantile_cont(door_to_triage_min, 0.9) as door_to_triage_p90_raw,
        count(*) filter (where is_lwbs is not true) as not_lwbs_encounters,
        count(door_to_provider_min) filter (where is_lwbs is not true) as door_to_provider_n,
        quantile_cont(door_to_provider_min, 0.5) filter (where is_lwbs is not true) as door_to_provider_p50_raw,
        quantile_cont(door_to_provider_min, 0.9) filter (where is_lwbs is not true) as door_to_provider_p90_raw,
        count(length_of_stay_hours) as los_n,
        quantile_cont(length_of_stay_hours, 0.5) as los_p50_raw,
        quantile_cont(length_of_stay_hours, 0.9) as los_p90_raw,
        count(is_lwbs) as lwbs_n,
        count(*) filter (where is_lwbs) as lwbs_encounters,
        count(*) filter (where encounter_class = 'EMER') as ed_visits,
        count(is_seen_within_target) as target_n,
        count(*) filter (where is_seen_within_target) as seen_within_target_encounters,
        count(is_ed_timeliness_event) as ed_timeliness_n,
        count(*) filter (where is_ed_timeliness_event) as ed_timeliness_events,
        count(*) filter (where is_treatment_room_wait_over_60min) as treatment_room_wait_over_60min_encounters,
        count(*) filter (where is_ed_stay_over_480min) as ed_stay_over_480min_encounters

    from visits
    group by all

),

appointment_daily as (

    select
        start_local_date as metric_date,
        department_code,
        encounter_class,
        count(*) filter (where is_due) as appointments_due,
        count(*) filter (where is_no_show) as no_shows,
        count(*) filter (where is_due or is_late_cancel) as no_show_n,
        count(*) filter (where is_scheduled) as appointments_scheduled,
        count(*) filter (where is_late_cancel) as late_cancellations,
        count(booking_lead_time_days) filter (where is_scheduled) as booking_lead_time_n,
        quantile_cont(booking_lead_time_days, 0.5) filter (where is_scheduled) as booking_lead_time_p50_raw,
        quantile_cont(booking_lead_time_days, 0.9) filter (where is_scheduled) as booking_lead_time_p90_raw

    from appointments
    -- appointments up to the last day any source recorded (the latest visit arrival or appointment
    -- change): later ones have not happened yet in the data (their outcome, late cancellation and
    -- lead time are not final). Without encounters the appointments' own activity bounds them.
    where start_local_date <= {{ last_recorded_local_date() }}
    group by all

),

joined as (

    select
        coalesce(encounter_daily.metric_date, appointment_daily.metric_date) as metric_date,
        coalesce(encounter_daily.department_code, appointment_daily.department_code) as department_code,
        coalesce(encounter_daily.encounter_class, appointment_daily.encounter_class) as encounter_class,
        coalesce(encounter_daily.encounters, 0) as encounters,
        coalesce(encounter_daily.status_history_source_encounters, 0) as status_history_source_encounters,
        coalesce(encounter_daily.location_source_encounters, 0) as location_source_encounters,
        coalesce(encounter_daily.no_source_encounters, 0) as no_source_encounters,
        coalesce(encounter_daily.door_to_triage_n, 0) as door_to_triage_n,
        encounter_daily.door_to_triage_p50_raw,
        encounter_daily.door_to_triage_p90_raw,
        coalesce(encounter_daily.not_lwbs_encounters, 0) as not_lwbs_encounters,
        coalesce(encounter_daily.door_to_provider_n, 0) as door_to_provider_n,
        encounter_daily.door_to_provider_p50_raw,
        encounter_daily.door_to_provider_p90_raw,
        coalesce(encounter_daily.los_n, 0) as los_n,
        encounter_daily.los_p50_raw,
        encounter_daily.los_p90_raw,
        coalesce(encounter_daily.lwbs_n, 0) as lwbs_n,
        coalesce(encounter_daily.lwbs_encounters, 0) as lwbs_encounters,
        coalesce(encounter_daily.ed_visits, 0) as ed_visits,
        coalesce(encounter_daily.target_n, 0) as target_n,
        coalesce(encounter_daily.seen_within_target_encounters, 0) as seen_within_target_encounters,
        coalesce(encounter_daily.ed_timeliness_n, 0) as ed_timeliness_n,
        coalesce(encounter_daily.ed_timeliness_events, 0) as ed_timeliness_events,
        coalesce(encounter_daily.treatment_room_wait_over_60min_encounters, 0)
            as treatment_room_wait_over_60min_encounters,
        coalesce(encounter_daily.ed_stay_over_480min_encounters, 0) as ed_stay_over_480min_encounters,
        coalesce(appointment_daily.appointments_due, 0) as appointments_due,
        coalesce(appointment_daily.no_shows, 0) as no_shows,
        coalesce(appointment_daily.no_show_n, 0) as no_show_n,
        coalesce(appointment_daily.appointments_scheduled, 0) as appointments_scheduled,
        coalesce(appointment_daily.late_cancellations, 0) as late_cancellations,
        coalesce(appointment_daily.booking_lead_time_n, 0) as booking_lead_time_n,
        appointment_daily.booking_lead_time_p50_raw,
        appointment_daily.booking_lead_time_p90_raw

    from encounter_daily
    full outer join appointment_daily
        on encounter_daily.metric_date = appointment_daily.metric_date
        and encounter_daily.department_code = appointment_daily.department_code
        and encounter_daily.encounter_class = appointment_daily.encounter_class

),

final as (

    select
        {{ surrogate_key(['joined.metric_date', 'joined.department_code', 'joined.encounter_class']) }}
            as wait_daily_id,
        joined.metric_date,
        joined.department_code,
        joined.encounter_class,
        joined.encounters,
        {{ is_small_cell('joined.encounters') }} as is_small_cell,
        {{ any_suppressed(['joined.encounters', 'joined.door_to_triage_n', 'joined.door_to_provider_n',
                           'joined.los_n', 'joined.no_show_n', 'joined.appointments_scheduled',
                           'joined.booking_lead_time_n', 'joined.target_n', 'joined.ed_timeliness_n',
                           'joined.lwbs_n', 'joined.not_lwbs_encounters', 'joined.ed_visits']) }}
            as suppressed,

        joined.status_history_source_encounters,
        joined.location_source_encounters,
        joined.no_source_encounters,
        {{ safe_rate('joined.status_history_source_encounters', 'joined.encounters') }} as status_history_source_rate,
        {{ safe_rate('joined.location_source_encounters', 'joined.encounters') }} as location_source_rate,
        {{ safe_rate('joined.no_source_encounters', 'joined.encounters') }} as no_source_rate,
        {{ is_suppressed('joined.encounters') }} as timestamp_source_suppressed,

        joined.door_to_triage_n,
        round({{ suppress('joined.door_to_triage_p50_raw', 'joined.door_to_triage_n') }}, 2) as door_to_triage_p50_min,
        round({{ suppress('joined.door_to_triage_p90_raw', 'joined.door_to_triage_n') }}, 2) as door_to_triage_p90_min,
        {{ is_suppressed('joined.door_to_triage_n') }} as door_to_triage_suppressed,
        {{ safe_rate('joined.door_to_triage_n', 'joined.encounters') }} as door_to_triage_coverage_rate,

        joined.door_to_provider_n,
        round({{ suppress('joined.door_to_provider_p50_raw', 'joined.door_to_provider_n') }}, 2) as door_to_provider_p50_min,
        round({{ suppress('joined.door_to_provider_p90_raw', 'joined.door_to_provider_n') }}, 2) as door_to_provider_p90_min,
        {{ is_suppressed('joined.door_to_provider_n') }} as door_to_provider_suppressed,
        joined.not_lwbs_encounters,
        {{ safe_rate('joined.door_to_provider_n', 'joined.not_lwbs_encounters') }} as door_to_provider_coverage_rate,

        joined.los_n,
        round({{ suppress('joined.los_p50_raw', 'joined.los_n') }}, 3) as los_p50_hours,
        round({{ suppress('joined.los_p90_raw', 'joined.los_n') }}, 3) as los_p90_hours,
        {{ is_suppressed('joined.los_n') }} as los_suppressed,
        {{ safe_rate('joined.los_n', 'joined.encounters') }} as los_coverage_rate,

        joined.lwbs_n,
        joined.lwbs_encounters,
        -- over the visits whose LWBS is known (disposition or tracking evidence), never over guesses
        {{ safe_rate('joined.lwbs_encounters', 'joined.lwbs_n') }} as lwbs_rate,
        {{ is_suppressed('joined.lwbs_n') }} as lwbs_suppressed,
        {{ safe_rate('joined.lwbs_n', 'joined.encounters') }} as lwbs_coverage_rate,

        joined.appointments_due,
        joined.no_shows,
        joined.no_show_n,
        {{ safe_rate('joined.no_shows', 'joined.no_show_n') }} as no_show_rate,
        {{ is_suppressed('joined.no_show_n') }} as no_show_suppressed,

        joined.appointments_scheduled,
        joined.late_cancellations,
        {{ safe_rate('joined.late_cancellations', 'joined.appointments_scheduled') }} as late_cancel_rate,
        {{ is_suppressed('joined.appointments_scheduled') }} as late_cancel_suppressed,

        joined.booking_lead_time_n,
        round({{ suppress('joined.booking_lead_time_p50_raw', 'joined.booking_lead_time_n') }}, 3)
            as booking_lead_time_p50_days,
        round({{ suppress('joined.booking_lead_time_p90_raw', 'joined.booking_lead_time_n') }}, 3)
            as booking_lead_time_p90_days,
        {{ is_suppressed('joined.booking_lead_time_n') }} as booking_lead_time_suppressed,

        wait_targets.door_to_provider_target_min,
        joined.target_n as seen_within_target_n,
        joined.seen_within_target_encounters,
        {{ safe_pct('joined.seen_within_target_encounters', 'joined.target_n') }} as pct_seen_within_target,
        {{ is_suppressed('joined.target_n') }} as seen_within_target_suppressed,

        joined.ed_timeliness_n,
        joined.ed_timeliness_events,
        joined.treatment_room_wait_over_60min_encounters,
        joined.ed_stay_over_480min_encounters,
        {{ safe_rate('joined.ed_timeliness_events', 'joined.ed_timeliness_n') }} as ed_timeliness_rate,
        {{ is_suppressed('joined.ed_timeliness_n') }} as ed_timeliness_suppressed,
        joined.ed_visits,
        {{ safe_rate('joined.ed_timeliness_n', 'joined.ed_visits') }} as ed_timeliness_coverage_rate

    from joined
    left join wait_targets
        on joined.department_code = wait_targets.department_code
        and joined.encounter_class = wait_targets.encounter_class

)

select * from final
