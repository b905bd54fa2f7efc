-- Encounter milestones in time order: arrived <= triaged <= provider seen <= departed.
-- A warning, not an error: EHR clocks and late charting do produce such records; the wait metrics
-- treat a negative interval as missing, and this test says how many there are (dbt prints the count).
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
