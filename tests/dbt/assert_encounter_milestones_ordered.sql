-- Encounter milestones in time order: arrived <= triaged <= provider seen <= departed.
-- A warning, not an error: EHR clocks and late charting do produce such records; the count is the
-- number of encounters with at least one out-of-order pair. Waits are measured from arrival: one
-- ending before arrival (negative) or after var('max_wait_hours') is NULL in fct_encounters
-- (macros/timestamps.sql, plausible_minutes) and never reaches a wait metric. Other pairs (provider
-- seen before triage) leave both waits from arrival valid.
{{ config(severity='warn') }}

select
    encounter_id,
    arrived_at,
    triaged_at,
    provider_seen_at,
    departed_at
from {{ ref('int_encounter_waits_derived') }}
where triaged_at < arrived_at
   or provider_seen_at < coalesce(triaged_at, arrived_at)
   or departed_at < coalesce(provider_seen_at, triaged_at, arrived_at)
