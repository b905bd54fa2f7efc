-- One row per visit (an encounter that happened, with a known patient and arrival): its number in
-- the patient's history and the next visit that began after it ended, for return rates.
with

encounters as (

    select * from {{ ref('int_encounter_waits_derived') }}

),

visits as (

    select
        encounter_id,
        patient_key,
        department_code,
        encounter_class,
        arrived_at,
        departed_at,
        coalesce(departed_at, arrived_at) as visit_ended_at

    from encounters
    where is_visit
      and patient_key is not null
      and arrived_at is not null

),

numbered as (

    select
        *,
        row_number() over (partition by patient_key order by arrived_at, encounter_id) as visit_number,
        lag(arrived_at) over (partition by patient_key order by arrived_at, encounter_id) as previous_arrived_at

    from visits

),

next_visits as (

    select
        index_visits.encounter_id,
        min(later_visits.arrived_at) as next_arrived_at

    from visits as index_visits
    inner join visits as later_visits
        on index_visits.patient_key = later_visits.patient_key
        and later_visits.arrived_at > index_visits.visit_ended_at
        and later_visits.arrived_at > index_visits.arrived_at
    group by index_visits.encounter_id

),

data_coverage as (

    select max(arrived_at) as visits_as_of_at
    from visits

),

final as (

    select
        numbered.encounter_id,
        numbered.patient_key,
        numbered.department_code,
        numbered.encounter_class,
        numbered.arrived_at,
        numbered.visit_ended_at,
        numbered.visit_number,
        numbered.visit_number = 1 as is_first_visit,
        numbered.previous_arrived_at,
        next_visits.next_arrived_at,
        {{ days_between('numbered.visit_ended_at', 'next_visits.next_arrived_at') }} as days_to_next_visit,
        data_coverage.visits_as_of_at,
        {%- for days in [30, 90, 365] %}
        numbered.visit_ended_at + interval {{ days }} day <= data_coverage.visits_as_of_at
            as is_return_window_{{ days }}d_closed,
        coalesce(next_visits.next_arrived_at <= numbered.visit_ended_at + interval {{ days }} day, false)
            as has_return_within_{{ days }}d{{ ',' if not loop.last }}
        {%- endfor %}

    from numbered
    left join next_visits
        on numbered.encounter_id = next_visits.encounter_id
    cross join data_coverage

)

select * from final
