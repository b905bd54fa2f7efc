-- Appointment access per ISO week × department: the third-next-available appointment (IHI TNAA),
-- counted on the slot snapshot of one fixed weekday (var access_count_weekday, ISO 1 = Monday).
--   TNAA = calendar days from the day of the count to the start (hospital-local date) of the third
--          free slot starting after the snapshot, across the department's schedules. Held
--          (busy-tentative), booked (busy) and blocked (busy-unavailable) slots are not available.
-- IHI measures TNAA per provider / clinic: the same count is also made per schedule (Slot.schedule)
-- and summarised as the median over the department's schedules.
-- TNAA is a measurement, not a statistic over units, so the small-cell rule does not apply to it;
-- the slot shares are rates and follow it.
--
-- Incremental by count date: a week's row depends only on its counting day's snapshot, so a run
-- computes only the counting days whose staged snapshot is new or differs (by source_signature,
-- macros/metrics.sql slot_snapshot_signatures) from the one the rows were built from; the pre-hook
-- first deletes the rows of days whose snapshot changed or went. Seed edits (departments) and a
-- change of var('access_count_weekday') need `--full-refresh`.
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='sync_all_columns',
    pre_hook="{{ delete_changed_snapshot_counts(ref('stg_ehr__slots')) }}"
) }}
with

in_scope as (

    -- the counting days to compute: all on a full build, else those the table does not hold
    -- (new, or deleted by the pre-hook because their snapshot changed)
    {{ slot_snapshot_signatures(ref('stg_ehr__slots'), this if is_incremental() else none) }}

),

slots as (

    select *
    from {{ ref('stg_ehr__slots') }}
    where snapshot_date in (select snapshot_date from in_scope)

),

departments as (

    select * from {{ ref('dim_department') }}

),

counted_snapshots as (

    select
        slots.snapshot_date,
        cast(date_trunc('week', slots.snapshot_date) as date) as week_start_date,
        case
            when slots.department_code is null then 'unknown'
            else coalesce(departments.department_code, 'unknown')
        end as department_code,
        slots.slot_id,
        coalesce(slots.schedule_id, 'unknown') as schedule_id,
        slots.slot_status,
        slots.start_at,
        {{ to_local_date('slots.start_at') }} as start_local_date

    from slots
    left join departments
        on slots.department_code = departments.department_code
    where isodow(slots.snapshot_date) = {{ var('access_count_weekday') }}
      -- slots still ahead at the snapshot (without a snapshot time: from the next local day)
      and slots.start_at > coalesce(
            slots.snapshot_at,
            timezone('UTC', timezone('{{ var("timezone") }}', cast(slots.snapshot_date + 1 as timestamp)))
      )

),

free_ranked as (

    select
        snapshot_date,
        department_code,
        schedule_id,
        start_local_date,
        row_number() over (
            partition by snapshot_date, department_code
            order by start_at, slot_id
        ) as free_slot_rank,
        row_number() over (
            partition by snapshot_date, department_code, schedule_id
            order by start_at, slot_id
        ) as schedule_free_slot_rank

    from counted_snapshots
    where slot_status = 'free'

),

schedule_third_available as (

    -- every schedule of the department in the snapshot, with its own third free slot (NULL if none)
    select
        counted_snapshots.snapshot_date,
        counted_snapshots.department_code,
        counted_snapshots.schedule_id,
        min(free_ranked.start_local_date) as third_available_local_date

    from counted_snapshots
    left join free_ranked
        on counted_snapshots.snapshot_date = free_ranked.snapshot_date
        and counted_snapshots.department_code = free_ranked.department_code
        and counted_snapshots.schedule_id = free_ranked.schedule_id
        and free_ranked.schedule_free_slot_rank = 3
    group by all

),

schedule_summary as (

    select
        snapshot_date,
        department_code,
        count(*) as schedules,
        count(*) filter (where third_available_local_date is null) as schedules_beyond_horizon,
        quantile_cont(date_diff('day', snapshot_date, third_available_local_date), 0.5)
            as schedule_tnaa_median_days

    from schedule_third_available
    group by all

),

slot_counts as (

    select
        week_start_date,
        snapshot_date,
        department_code,
        count(*) as slots_in_horizon,
        count(*) filter (where slot_status = 'free') as free_slots,
        count(*) filter (where slot_status = 'busy') as booked_slots,
        count(*) filter (where slot_status = 'busy-tentative') as held_slots,
        count(*) filter (where slot_status = 'busy-unavailable') as blocked_slots,
        count(*) filter (where slot_status in ('free', 'busy', 'busy-tentative')) as bookable_slots

    from counted_snapshots
    group by all

),

next_available as (

    select
        snapshot_date,
        department_code,
        min(start_local_date) filter (where free_slot_rank = 1) as first_available_local_date,
        min(start_local_date) filter (where free_slot_rank = 3) as third_available_local_date

    from free_ranked
    group by all

),

final as (

    select
        {{ surrogate_key(['slot_counts.week_start_date', 'slot_counts.department_code']) }} as access_weekly_id,
        slot_counts.week_start_date,
        slot_counts.department_code,
        slot_counts.snapshot_date as count_date,
        slot_counts.slots_in_horizon,
        slot_counts.free_slots,
        slot_counts.booked_slots,
        slot_counts.held_slots,
        slot_counts.blocked_slots,
        slot_counts.bookable_slots,
        date_diff('day', slot_counts.snapshot_date, next_available.first_available_local_date)
            as first_next_available_days,
        date_diff('day', slot_counts.snapshot_date, next_available.third_available_local_date)
            as third_next_available_days,
        next_available.third_available_local_date is null as is_beyond_horizon,
        schedule_summary.schedules,
        schedule_summary.schedules_beyond_horizon,
        schedule_summary.schedule_tnaa_median_days,
        {{ safe_rate('slot_counts.booked_slots', 'slot_counts.bookable_slots') }} as booked_slot_rate,
        {{ is_suppressed('slot_counts.bookable_slots') }} as booked_slot_suppressed,
        {{ any_suppressed(['slot_counts.bookable_slots']) }} as suppressed,
        in_scope.source_signature

    from slot_counts
    inner join in_scope
        on slot_counts.snapshot_date = in_scope.snapshot_date
    left join next_available
        on slot_counts.snapshot_date = next_available.snapshot_date
        and slot_counts.department_code = next_available.department_code
    left join schedule_summary
        on slot_counts.snapshot_date = schedule_summary.snapshot_date
        and slot_counts.department_code = schedule_summary.department_code

)

select * from final
