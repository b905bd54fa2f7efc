-- Encounter milestones in time order: arrived <= triaged <= provider seen <= departed.
-- A warning, not an error: EHR clocks and late charting do produce such records. NOTE: the wait
-- metrics do not yet treat a negative interval as missing (see the session note); this test counts them.
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
