-- One row per slot per daily snapshot (the drop's date): each drop holds every bookable slot in the
-- next 8 weeks with its status as of the extract, so snapshots are kept, not collapsed. A slot
-- re-delivered within the same drop keeps its latest copy.
--
-- Incremental by drop date (macros/staging.sql, "Incremental staging"): Slot snapshots are most of
-- what lands (every drop re-sends eight weeks of slots), so re-reading their JSON from all history on
-- every run would grow the nightly job with history. Each run recomputes whole, from raw, only the
-- drop dates that changed since the last build (a re-sent file for an old date replaces that date's
-- snapshot exactly as a full rebuild would).
{{ config(
    pre_hook="{{ staging_changed_keys_hook(raw_source('ehr', 'ehr_slot'), 'Slot', 'snapshot_date',
                                            '_landing_date', '_landing_date') }}"
) }}
with

source as (

    select * from {{ raw_source('ehr', 'ehr_slot') }}
    {% if is_incremental() %}
    where _landing_date in (select changed_key from {{ changed_keys_relation() }})
    {% endif %}

),

parsed as (

    -- one JSON parse per row for every path read (a path list is extracted in one pass)
    select
        *,
        json_extract_string(resource, [
            '$.id', '$.status', '$.start', '$.end', '$.serviceType[0].coding[0].code',
            '$.schedule.reference', '$.meta.lastUpdated'
        ]) as field

    from source

),

renamed as (

    select
        coalesce(resource_id, field[1]) as slot_id,
        _landing_date as snapshot_date,
        lower(field[2]) as slot_status,
        {{ to_utc("field[3]") }} as start_at,
        {{ to_utc("field[4]") }} as end_at,
        {{ clean_text("field[5]") }} as department_code,
        {{ fhir_reference_id("field[6]", 'Schedule') }} as schedule_id,
        {{ to_utc("field[7]") }} as snapshot_at,
        {{ unreadable_values([
            time_problem("field[3]", 'start'),
            time_problem("field[4]", 'end'),
            time_problem("field[7]", 'meta.lastUpdated'),
        ]) }} as unreadable_values,
        {{ lineage_columns() }}

    from parsed

),

final as (

    select
        slot_id || '@' || cast(snapshot_date as varchar) as slot_snapshot_id,
        *

    from renamed
    where slot_id is not null
    {{ latest_version('slot_id, snapshot_date', 'snapshot_at desc nulls last') }}

)

select * from final
