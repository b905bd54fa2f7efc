-- Door-to-provider by the hospital-local weekday × hour of arrival, per department × encounter class,
-- over every visit in the warehouse (the dashboard's hour × weekday heatmap). A cell without visits
-- has no row.
-- Percentiles are quantile_cont (linear interpolation) over the exact door-to-provider times of the
-- visits not known to be LWBS with a plausible time, rounded once here; a cell over fewer than
-- var('min_cell_size') of them is NULL and flagged. door_to_provider_coverage_rate: the share of
-- those visits that had a provider time.
with

encounters as (

    select * from {{ ref('fct_encounters') }}

),

visits as (

    select
        department_code,
        {{ metric_class('encounter_class') }} as encounter_class,
        is_lwbs,
        door_to_provider_min,
        {{ to_local('arrived_at') }} as arrived_local_at

    from encounters
    where is_visit
      and arrived_at is not null

),

cells as (

    select
        department_code,
        encounter_class,
        cast(isodow(arrived_local_at) as integer) as arrival_weekday,
        cast(hour(arrived_local_at) as integer) as arrival_hour,
        count(*) as encounters,
        count(*) filter (where is_lwbs is not true) as not_lwbs_encounters,
        count(door_to_provider_min) filter (where is_lwbs is not true) as door_to_provider_n,
        quantile_cont(door_to_provider_min, 0.5) filter (where is_lwbs is not true) as door_to_provider_p50_raw,
        quantile_cont(door_to_provider_min, 0.9) filter (where is_lwbs is not true) as door_to_provider_p90_raw

    from visits
    group by all

),

final as (

    select
        {{ surrogate_key(['department_code', 'encounter_class', 'arrival_weekday', 'arrival_hour']) }}
            as wait_by_arrival_hour_id,
        department_code,
        encounter_class,
        arrival_weekday,
        ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'][arrival_weekday] as arrival_weekday_name,
        arrival_hour,
        encounters,
        {{ is_small_cell('encounters') }} as is_small_cell,
        {{ any_suppressed(['door_to_provider_n']) }} as suppressed,
        door_to_provider_n,
        round({{ suppress('door_to_provider_p50_raw', 'door_to_provider_n') }}, 2) as door_to_provider_p50_min,
        round({{ suppress('door_to_provider_p90_raw', 'door_to_provider_n') }}, 2) as door_to_provider_p90_min,
        {{ is_suppressed('door_to_provider_n') }} as door_to_provider_suppressed,
        not_lwbs_encounters,
        {{ safe_rate('door_to_provider_n', 'not_lwbs_encounters') }} as door_to_provider_coverage_rate

    from cells

)

select * from final
