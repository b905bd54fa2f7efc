-- One row per encounter: arrival, triage, provider-seen and departure times derived the two ways
-- EHRs record them (statusHistory and location periods, with Encounter.period as the fallback),
-- each with the element it came from, plus the LWBS and "is a visit" flags. A flag or time is
-- derived only from evidence the export holds: without it the value is NULL and a *_reason column
-- says why (e.g. an ED encounter with only `period` has no LWBS flag: no_disposition_or_tracking).
-- Rules: data/README.md, "Encounter".
--
-- Incremental through the change feed (macros/change_feed.sql, macros/change_feed_consumers.sql): a
-- run rebuilds only the encounters whose latest version, status history or locations the staging
-- models rebuilt, or with a location at a Location re-exported since (the pre-hook deletes them, the
-- model appends them recomputed; one no longer staged stays deleted), and every encounter when one
-- of those was rebuilt in full.
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='sync_all_columns',
    pre_hook="{{ encounter_waits_pre_hook() }}",
    post_hook="{{ change_feed_commit(encounter_waits_producers()) }}"
) }}
{%- set changed_only = is_incremental() and not change_feed_needs_full(encounter_waits_producers()) %}
{%- set in_scope = "where encounter_id in (select changed_key from " ~ changed_keys_relation() ~ ")" if changed_only else "" %}
with

encounters as (

    select * from {{ ref('stg_ehr__encounters') }}
    {{ in_scope }}

),

status_history as (

    select * from {{ ref('stg_ehr__encounter_status_history') }}
    {{ in_scope }}

),

encounter_locations as (

    select * from {{ ref('stg_ehr__encounter_locations') }}
    {{ in_scope }}

),

locations as (

    select * from {{ ref('stg_ehr__locations') }}

),

status_times as (

    select
        encounter_id,
        min(period_start_at) filter (where encounter_status = 'arrived') as arrived_status_at,
        min(period_start_at) filter (where encounter_status = 'triaged') as triaged_status_at,
        min(period_start_at) filter (where encounter_status = 'in-progress') as in_progress_status_at,
        min(period_start_at) filter (where encounter_status = 'finished') as finished_status_at,
        count(*) as status_history_entries,
        -- reached in-progress, even when the entry carries no time
        count(*) filter (where encounter_status = 'in-progress') > 0 as has_in_progress_status

    from status_history
    group by encounter_id

),

location_keywords as (

    -- a Location referenced by id, or by identifier (conditional reference or Reference.identifier,
    -- resolved when exactly one Location holds it); its role from stg_ehr__locations, else a mapping
    -- of the referenced id (a Location not exported), else the name keywords below
    select
        encounter_locations.encounter_id,
        encounter_locations.location_index,
        encounter_locations.period_start_at,
        encounter_locations.period_end_at,
        coalesce(
            locations.location_role_code,
            {{ mapped_code('location_role', 'null', 'encounter_locations.location_id') }}
        ) as location_role_code,
        case
            when locations.location_role_code is not null then locations.location_role_evidence
            when {{ mapped_code('location_role', 'null', 'encounter_locations.location_id') }} is not null
                then 'location_mapping'
        end as location_role_evidence,
        lower(concat_ws(
            ' ', coalesce(encounter_locations.location_id, location_identifiers.location_id),
            encounter_locations.location_display
        )) as location_label

    from encounter_locations
    left join {{ ref('stg_ehr__location_identifiers') }} as location_identifiers
        on encounter_locations.location_identifier = location_identifiers.identifier_token
        and location_identifiers.location_count = 1
    left join locations
        on coalesce(encounter_locations.location_id, location_identifiers.location_id) = locations.location_id

),

location_roles as (

    select
        encounter_id,
        location_index,
        period_start_at,
        period_end_at,
        case
            when location_role_code is not null then location_role_code
            when location_label like '%wait%' then 'waiting-room'
            when location_label like '%triag%' then 'triage'
            when regexp_matches(location_label, 'treat|room|bay') then 'treatment-room'
        end as location_role,
        -- which evidence decided the role: location_mapping, type, physical_type or keyword
        case
            when location_role_code is not null then location_role_evidence
            when regexp_matches(location_label, 'wait|triag|treat|room|bay') then 'keyword'
        end as location_role_evidence,
        row_number() over (
            partition by encounter_id
            order by period_start_at desc nulls last, location_index desc
        ) as reverse_location_order

    from location_keywords

),

location_times as (

    select
        encounter_id,
        min(period_start_at) as first_location_start_at,
        min(period_start_at) filter (where location_role = 'triage') as triage_location_start_at,
        min(period_start_at) filter (where location_role = 'treatment-room') as treatment_location_start_at,
        max(period_end_at) filter (where reverse_location_order = 1) as last_location_end_at,
        count(*) as location_entries,
        -- placed in a treatment room, even when the entry carries no period (a bulk export may list
        -- the locations without times): evidence of being seen, though not of when
        count(*) filter (where location_role = 'treatment-room') > 0 as has_treatment_room_location,
        -- every location's role is known: only then does "never in a treatment room" say something
        count(*) filter (where location_role is null) = 0 as has_every_location_role

    from location_roles
    group by encounter_id

),

joined as (

    select
        encounters.encounter_id,
        encounters.patient_key,
        encounters.department_code,
        encounters.encounter_class,
        encounters.encounter_class_null_reason,
        encounters.encounter_status,
        encounters.appointment_id,
        encounters.discharge_disposition_code,
        encounters.discharge_disposition_system,
        encounters.discharge_disposition_category,
        encounters.period_start_at,
        encounters.period_end_at,
        encounters._loaded_at,
        status_times.arrived_status_at,
        status_times.triaged_status_at,
        status_times.in_progress_status_at,
        status_times.finished_status_at,
        location_times.first_location_start_at,
        location_times.triage_location_start_at,
        location_times.treatment_location_start_at,
        location_times.last_location_end_at,
        coalesce(status_times.has_in_progress_status, false)
            or coalesce(location_times.has_treatment_room_location, false) as has_treatment_evidence,
        -- tracking evidence: the EHR recorded the stay's milestones (statusHistory) or where the
        -- patient was, each location with a known role
        coalesce(status_times.status_history_entries > 0, false)
            or coalesce(location_times.location_entries > 0 and location_times.has_every_location_role, false)
            as has_tracking_evidence

    from encounters
    left join status_times
        on encounters.encounter_id = status_times.encounter_id
    left join location_times
        on encounters.encounter_id = location_times.encounter_id

),

derived as (

    select
        *,

        -- arrival: earliest of the arrived status and the first location; else period.start
        case
            when arrived_status_at is not null
                and (first_location_start_at is null or arrived_status_at <= first_location_start_at)
                then arrived_status_at
            when first_location_start_at is not null then first_location_start_at
            else period_start_at
        end as arrived_at,
        case
            when arrived_status_at is not null
                and (first_location_start_at is null or arrived_status_at <= first_location_start_at)
                then 'status_history'
            when first_location_start_at is not null then 'location'
            when period_start_at is not null then 'period'
            else 'none'
        end as arrived_source,

        -- triage: the triaged status, else the start of the triage location
        coalesce(triaged_status_at, triage_location_start_at) as triaged_at,
        case
            when triaged_status_at is not null then 'status_history'
            when triage_location_start_at is not null then 'location'
            else 'none'
        end as triaged_source,

        -- provider seen: the in-progress status, else the start of the first treatment room
        coalesce(in_progress_status_at, treatment_location_start_at) as provider_seen_at,
        case
            when in_progress_status_at is not null then 'status_history'
            when treatment_location_start_at is not null then 'location'
            else 'none'
        end as provider_seen_source,

        -- placed in a treatment room (CMS ED timeliness): the first treatment-room location, else
        -- the in-progress status (an EHR without locations records placement as the provider start)
        coalesce(treatment_location_start_at, in_progress_status_at) as treatment_room_at,

        -- departure: the finished status, else the encounter's own end (period.end), else the end of
        -- the last location (a location's end may lie hours after the recorded discharge)
        coalesce(finished_status_at, period_end_at, last_location_end_at) as departed_at,
        case
            when finished_status_at is not null then 'status_history'
            when period_end_at is not null then 'period'
            when last_location_end_at is not null then 'location'
            else 'none'
        end as departed_source

    from joined

),

dispositions as (

    select
        *,
        -- the disposition evidence: the code mapped to journey's category (seeds + the site's code map)
        discharge_disposition_category = 'lwbs' as is_lwbs_disposition,
        discharge_disposition_code is not null as has_disposition

    from derived

),

lwbs_reasons as (

    -- left without being seen (CMS ED timeliness "left without being evaluated"): from the
    -- disposition, else from tracking evidence (an ended ED stay that never reached in-progress or a
    -- treatment room); NULL when the export holds neither (an encounter with only `period`)
    select
        *,
        case
            when encounter_status = 'entered-in-error' then 'not_a_visit'
            when is_lwbs_disposition then 'lwbs_disposition'
            when has_disposition then 'other_disposition'
            when encounter_class is distinct from 'EMER' then 'not_emergency'
            when encounter_status in ('arrived', 'triaged', 'in-progress', 'onleave') then 'not_departed'
            when encounter_status is distinct from 'finished' and encounter_status is distinct from 'cancelled'
                then 'not_a_visit'
            when provider_seen_at is not null or has_treatment_evidence then 'seen_by_provider'
            when has_tracking_evidence then 'tracking_never_seen'
            else 'no_disposition_or_tracking'
        end as lwbs_reason

    from dispositions

),

flagged as (

    select
        *,
        case
            when lwbs_reason in ('no_disposition_or_tracking', 'not_a_visit') then null
            else lwbs_reason in ('lwbs_disposition', 'tracking_never_seen')
        end as is_lwbs

    from lwbs_reasons

),

final as (

    select
        encounter_id,
        patient_key,
        department_code,
        encounter_class,
        encounter_class_null_reason,
        encounter_status,
        appointment_id,
        discharge_disposition_code,
        discharge_disposition_system,
        period_start_at,
        period_end_at,
        arrived_at,
        arrived_source,
        triaged_at,
        triaged_source,
        provider_seen_at,
        provider_seen_source,
        departed_at,
        departed_source,
        treatment_room_at,
        has_tracking_evidence,
        -- the source of the wait that matters most (door to provider): decides the encounter's
        -- timestamp_source; period never yields a provider time, so it is status_history/location/none
        provider_seen_source as timestamp_source,
        is_lwbs,
        lwbs_reason,
        -- a cancelled encounter is a visit only with LWBS evidence (an unknown LWBS is not one)
        (encounter_status in ('arrived', 'triaged', 'in-progress', 'onleave', 'finished') or coalesce(is_lwbs, false))
            as is_visit,
        -- when the version kept was loaded: facts built incrementally rebuild encounters loaded since
        -- their last run
        _loaded_at as source_loaded_at

    from flagged

)

select * from final
