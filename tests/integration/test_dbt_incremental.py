"""Incremental facts equal a full rebuild.

Builds the hand-made raw fixture (tests/dbt/fixtures/make_raw_fixture.sql) into a temporary DuckDB,
runs dbt, lands a second batch of late and changed records, runs dbt again *incrementally*, and
compares every table in `intermediate` and `marts` with a `--full-refresh` build of the same raw
data. The second batch is chosen so each path of the incremental filters is exercised:

* a survey for enc-006 (visit on 2026-03-02, far outside the 14-day lookback) that lands late and,
  authored earlier than the survey already there, becomes the encounter's primary response
  (the loaded-since-last-run watermark);
* enc-007 re-sent as entered-in-error: it stops being a visit, so its arrival / departure
  touchpoints must disappear (the post-hook) and its visit number must go;
* a first encounter for a person a CRM touch named before the EHR knew them: the touch, built as
  the `unknown` patient, must now resolve to that patient;
* a new encounter and a late follow-up call (new keys);
* incremental staging (the EHR staging models recompute only changed keys), in the nightly order
  (stage → staging gate → build): a re-sent Slot file for the old drop of 2026-02-20 with a later
  copy of slot-001 and a new drop date; the only row of the 2026-02-19 Slot drop and a newer version
  of enc-002 refused by the gate after the stage step (moved from raw to quarantine.rows): the date
  must empty and enc-002 fall back to its earlier version; and the Appointment file of 2026-03-04
  re-delivered empty (its earlier batch superseded): appt-002, only in that file, must go; CRM
  touch t-001 re-delivered (replaces) and t-002 re-delivered but refused (the first delivery stays);
* two old files re-delivered without a record, far outside the lookback and with no newer load
  stamp pointing at what changed: enc-010 must leave fct_encounters (the post-hook), and enc-200
  (P5's second visit, first loaded with the first batch) lose its survey and become the first visit;
* a Location exported for the first time (area-c-01, a treatment room the first build read as a
  waiting area from its label): enc-201 (P6's only visit, 2026-03-23, outside the lookback, nothing
  newer loaded for it or P6) gains a provider-seen time, in fct_encounters and as a touchpoint (the
  change feed);
* campaign cmp-002 re-sent with a department (its anonymous touch t-003 changed nothing), review
  r-002 re-sent with a corrected time, complaint c-002 re-sent naming its department: the
  touchpoints of each follow (the change feed of every kind of touchpoint source).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
FIXTURE = REPO / "tests" / "dbt" / "fixtures" / "make_raw_fixture.sql"
# seeds and models, no tests (dbt build in the nightly flow runs those)
BUILD = ("build", "--exclude", "resource_type:test", "resource_type:unit_test")
# access counted on Fridays: the fixture's Slot drops are on a Thursday and a Friday (2026-02-19/20)
VARS = {"timezone": "Asia/Shanghai", "min_cell_size": 11, "late_lookback_days": 14, "access_count_weekday": 5}

PATIENT_X = "a" * 64  # known to the CRM first, to the EHR only in the second batch
PATIENT_3 = "6331cc4c59c95ae2f1b21cbdedcf438d97b935699f58ec8cea3d9a380e48783a"
PATIENT_1 = "fee7aa1e3c45ac73ef799b546787be7fcdac32b667920d7972d8c47768aab0eb"
MARKER = "'enc-012#99' as encounter_location_id, 'enc-012' as encounter_id, 99 as location_index"
# a touchpoint no source changed (a review that is not in raw): a run that recomputed every
# touchpoint would delete it from both tables
TOUCHPOINT_MARKER = "'review:rv-marker' as touchpoint_id, 'review' as touchpoint_type, 'rv-marker' as source_record_id"
PATIENT_5 = "d7b9bd5154ff31067fb7760739fa977a7f6243f5602955efad3696d02e1887cb"  # enc-010's, no Patient resource
PATIENT_6 = "b" * 64  # enc-201's, no Patient resource

FIRST_BATCH = f"""
insert into raw.crm_touches values
    ('t-100', '2026-04-01T10:00:00', 'anon-xx99', '{PATIENT_X}', 'search', 'cmp-002', 'click',
     'crm/2026-04-02/touches.jsonl', 1, 'b-0201', date '2026-04-02', timestamp '2026-04-02 16:00:00');
-- P5's second visit (after enc-010) and its survey, each in a file of its own
insert into raw.ehr_encounter values
    ('enc-200', '{{"resourceType": "Encounter", "id": "enc-200", "status": "finished", "class": {{"code": "AMB"}},
      "subject": {{"reference": "Patient/{PATIENT_5}"}}, "serviceType": {{"coding": [{{"code": "internal_medicine"}}]}},
      "period": {{"start": "2026-03-25T09:00:00+08:00", "end": "2026-03-25T09:30:00+08:00"}},
      "meta": {{"lastUpdated": "2026-03-25T09:31:00+08:00"}}}}'::json,
     'ehr/2026-03-25/Encounter.ndjson', 1, 'b-2501', date '2026-03-25', timestamp '2026-03-25 16:00:00');
insert into raw.ehr_questionnaire_response values
    ('qr-200', '{{"resourceType": "QuestionnaireResponse", "id": "qr-200", "status": "completed",
      "encounter": {{"reference": "Encounter/enc-200"}}, "subject": {{"reference": "Patient/{PATIENT_5}"}},
      "authored": "2026-03-25T18:00:00+08:00",
      "item": [{{"linkId": "nps", "answer": [{{"valueInteger": 9}}]}}]}}'::json,
     'ehr/2026-03-26/QuestionnaireResponse.ndjson', 1, 'b-2601', date '2026-03-26', timestamp '2026-03-26 16:00:00');
-- P6's only visit: its one location, area-c-01, has no Location resource yet ("waiting area" by its label)
insert into raw.ehr_encounter values
    ('enc-201', '{{"resourceType": "Encounter", "id": "enc-201", "status": "finished", "class": {{"code": "EMER"}},
      "subject": {{"reference": "Patient/{PATIENT_6}"}}, "serviceType": {{"coding": [{{"code": "emergency"}}]}},
      "period": {{"start": "2026-03-23T10:00:00+08:00", "end": "2026-03-23T11:00:00+08:00"}},
      "statusHistory": [{{"status": "arrived", "period": {{"start": "2026-03-23T10:00:00+08:00"}}}},
                        {{"status": "finished", "period": {{"start": "2026-03-23T11:00:00+08:00"}}}}],
      "location": [{{"location": {{"reference": "Location/area-c-01", "display": "ED waiting area C"}},
                     "period": {{"start": "2026-03-23T10:05:00+08:00", "end": "2026-03-23T10:55:00+08:00"}}}}],
      "meta": {{"lastUpdated": "2026-03-23T11:01:00+08:00"}}}}'::json,
     'ehr/2026-03-23/Encounter.ndjson', 1, 'b-2301', date '2026-03-23', timestamp '2026-03-23 16:00:00');
"""


def _fhir(resource: dict[str, object], source_file: str, landing_date: str, loaded_at: str) -> str:
    return (
        f"('{resource['id']}', '{json.dumps(resource, ensure_ascii=False)}'::json, '{source_file}', 1, "
        f"'b-late', date '{landing_date}', timestamp '{loaded_at}')"
    )


def _second_batch() -> str:
    late_survey = {
        "resourceType": "QuestionnaireResponse", "id": "qr-100", "status": "completed",
        "encounter": {"reference": "Encounter/enc-006"}, "subject": {"reference": f"Patient/{PATIENT_1}"},
        "authored": "2026-03-02T17:00:00+08:00", "meta": {"lastUpdated": "2026-04-26T09:00:00+08:00"},
        "item": [{"linkId": "nps", "answer": [{"valueInteger": 2}]}],
    }
    enc_007_in_error = {
        "resourceType": "Encounter", "id": "enc-007", "status": "entered-in-error", "class": {"code": "AMB"},
        "subject": {"reference": f"Patient/{PATIENT_3}"}, "serviceType": {"coding": [{"code": "pediatrics"}]},
        "period": {"start": "2026-03-04T14:00:00+08:00", "end": "2026-03-04T14:30:00+08:00"},
        "meta": {"lastUpdated": "2026-04-26T08:00:00+08:00"},
    }
    first_visit_of_x = {
        "resourceType": "Encounter", "id": "enc-100", "status": "finished", "class": {"code": "AMB"},
        "subject": {"reference": f"Patient/{PATIENT_X}"}, "serviceType": {"coding": [{"code": "internal_medicine"}]},
        "period": {"start": "2026-04-25T09:00:00+08:00", "end": "2026-04-25T09:40:00+08:00"},
        "statusHistory": [
            {"status": "arrived", "period": {"start": "2026-04-25T09:00:00+08:00"}},
            {"status": "in-progress", "period": {"start": "2026-04-25T09:25:00+08:00"}},
            {"status": "finished", "period": {"start": "2026-04-25T09:40:00+08:00"}},
        ],
        "meta": {"lastUpdated": "2026-04-25T09:41:00+08:00"},
    }
    slot_001_resent = {
        "resourceType": "Slot", "id": "slot-001", "status": "busy-unavailable",
        "start": "2026-03-02T10:00:00+08:00", "end": "2026-03-02T10:20:00+08:00",
        "serviceType": [{"coding": [{"code": "internal_medicine"}]}], "schedule": {"reference": "Schedule/clinic-im-1"},
        "meta": {"lastUpdated": "2026-02-20T23:30:00+08:00"},
    }
    slot_003_new_drop = {
        "resourceType": "Slot", "id": "slot-003", "status": "free",
        "start": "2026-04-28T09:00:00+08:00", "end": "2026-04-28T09:20:00+08:00",
        "serviceType": [{"coding": [{"code": "pediatrics"}]}], "schedule": {"reference": "Schedule/clinic-pe-1"},
        "meta": {"lastUpdated": "2026-04-26T23:00:00+08:00"},
    }
    area_c_01 = {
        "resourceType": "Location", "id": "area-c-01", "name": "ED area C",
        "type": [{"coding": [{"system": "https://journey.example/fhir/CodeSystem/location-role",
                              "code": "treatment-room"}]}],
    }
    enc_002_newer = {
        "resourceType": "Encounter", "id": "enc-002", "status": "cancelled", "class": {"code": "EMER"},
        "subject": {"reference": "Patient/x"}, "meta": {"lastUpdated": "2026-04-26T08:00:00+08:00"},
    }
    loaded = "2026-04-26 16:00:00"
    return f"""
insert into raw.ehr_slot values
    {_fhir(slot_001_resent, 'ehr/2026-02-20/Slot.002.ndjson', '2026-02-20', loaded)},
    {_fhir(slot_003_new_drop, 'ehr/2026-04-26/Slot.ndjson', '2026-04-26', loaded)};
insert into raw.ehr_location values
    {_fhir(area_c_01, 'ehr/2026-04-26/Location.ndjson', '2026-04-26', loaded)};
insert into raw.ehr_encounter values
    {_fhir(enc_002_newer, 'ehr/2026-04-26/Encounter.002.ndjson', '2026-04-26', loaded)};
-- t-001 re-delivered as a click (replaces the impression); t-002 re-delivered by SMS (refused below)
insert into raw.crm_touches values
    ('t-001', '2026-02-18T20:15:00', 'anon-aa01', '{PATIENT_1}', 'wechat', 'cmp-001', 'click',
     'crm/2026-04-26/touches.jsonl', 1, 'b-late', date '2026-04-26', timestamp '{loaded}'),
    ('t-002', '2026-02-18 20:16:30', 'anon-aa01', '{PATIENT_1}', 'sms', 'cmp-001', 'click',
     'crm/2026-04-26/touches.jsonl', 2, 'b-late', date '2026-04-26', timestamp '{loaded}');
-- the Appointment file of 2026-03-04 re-delivered empty: runs.supersede_earlier_versions
insert into raw.load_manifest values
    ('b-0403', 'run-0', 'ehr', date '2026-03-04', 'ehr/2026-03-04/Appointment.ndjson', 100, 'sha-a', 'utf-8',
     1, 1, 0, 0, 'superseded', 're-delivered with different content; replaced by batch b-0403x',
     timestamp '2026-03-04 16:00:00'),
    ('b-0403x', 'run-1', 'ehr', date '2026-03-04', 'ehr/2026-03-04/Appointment.ndjson', 0, 'sha-b', null,
     0, 0, 0, 0, 'empty', 'empty file (0 bytes)', timestamp '{loaded}');
delete from raw.ehr_appointment where _batch_id = 'b-0403';
insert into raw.ehr_questionnaire_response values
    {_fhir(late_survey, 'ehr/2026-04-26/QuestionnaireResponse.ndjson', '2026-04-26', loaded)};
-- Two old files re-delivered (runs.supersede_earlier_versions), both far outside the lookback: the
-- survey file of 2026-03-26 empty (qr-200, enc-200's only response, goes) and the Encounter file of
-- 2026-03-22 without enc-010 (enc-011 stays, reloaded as a new batch), so enc-200 becomes patient
-- P5's first visit. Nothing newer is loaded for enc-200 or P5.
insert into raw.load_manifest values
    ('b-2601', 'run-0', 'ehr', date '2026-03-26', 'ehr/2026-03-26/QuestionnaireResponse.ndjson', 100, 'sha-c',
     'utf-8', 1, 1, 0, 0, 'superseded', 're-delivered with different content; replaced by batch b-2601x',
     timestamp '2026-03-26 16:00:00'),
    ('b-2601x', 'run-1', 'ehr', date '2026-03-26', 'ehr/2026-03-26/QuestionnaireResponse.ndjson', 0, 'sha-d',
     null, 0, 0, 0, 0, 'empty', 'empty file (0 bytes)', timestamp '{loaded}'),
    ('b-2201', 'run-0', 'ehr', date '2026-03-22', 'ehr/2026-03-22/Encounter.ndjson', 100, 'sha-e',
     'utf-8', 2, 2, 0, 0, 'superseded', 're-delivered with different content; replaced by batch b-2201x',
     timestamp '2026-03-22 16:00:00'),
    ('b-2201x', 'run-1', 'ehr', date '2026-03-22', 'ehr/2026-03-22/Encounter.ndjson', 50, 'sha-f',
     'utf-8', 1, 1, 0, 0, 'loaded', null, timestamp '{loaded}');
delete from raw.ehr_questionnaire_response where _batch_id = 'b-2601';
insert into raw.ehr_encounter
    select resource_id, resource, _source_file, 1, 'b-2201x', _landing_date, timestamp '{loaded}'
    from raw.ehr_encounter where _batch_id = 'b-2201' and resource_id = 'enc-011';
delete from raw.ehr_encounter where _batch_id = 'b-2201';
insert into raw.ehr_encounter values
    {_fhir(enc_007_in_error, 'ehr/2026-04-26/Encounter.ndjson', '2026-04-26', loaded)},
    {_fhir(first_visit_of_x, 'ehr/2026-04-26/Encounter.001.ndjson', '2026-04-26', loaded)};
insert into raw.crm_campaigns values
    ('cmp-002', '一季度搜索推广', 'search_ads', 'search', 'cardiology', '2026-01-01', '2026-03-31', '50000',
     'crm/2026-04-26/campaigns.csv', 1, 'b-late', date '2026-04-26', timestamp '{loaded}');
insert into raw.relations_reviews values
    ('r-002', 'google', null, '2', 'Parking was hard to find', '2026-03-22T09:00:00',
     'relations/2026-04-26/reviews.jsonl', 1, 'b-late', date '2026-04-26', timestamp '{loaded}');
insert into raw.relations_complaints values
    ('c-002', '', '', 'emergency', '2026-04-03 09:00:00', '2026-04-07 09:30:00', '2026-04-08 11:00:00', 'billing',
     'web', 'Charged twice for parking', 'relations/2026-04-26/complaints.csv', 1, 'b-late', date '2026-04-26',
     timestamp '{loaded}');
insert into raw.relations_follow_ups values
    ('fu-100', 'enc-004', '3', '2026-03-06T10:00:00', '2026-03-06T10:05:00', '2026-03-06T10:20:00', 'reached',
     'relations/2026-04-26/follow_ups.csv', 1, 'b-late', date '2026-04-26', timestamp '{loaded}');
"""


# What the staging gate does after the stage step (quality.gate._quarantine_rows): refused rows move
# from raw to quarantine.rows (FHIR rows keep their pseudonymised resource in original_values).
GATE_REFUSALS = """
insert into quarantine.rows
    select _batch_id, 'ehr', 'Slot', _source_file, _row_number, _landing_date, 'slot_status_known', 'error',
           'test', resource::varchar, null, timestamp '2026-04-26 16:05:00', null
    from raw.ehr_slot where _landing_date = date '2026-02-19';
delete from raw.ehr_slot where _landing_date = date '2026-02-19';
insert into quarantine.rows
    select _batch_id, 'ehr', 'Encounter', _source_file, _row_number, _landing_date, 'encounter_status_known',
           'error', 'test', resource::varchar, null, timestamp '2026-04-26 16:05:00', null
    from raw.ehr_encounter where _source_file = 'ehr/2026-04-26/Encounter.002.ndjson';
delete from raw.ehr_encounter where _source_file = 'ehr/2026-04-26/Encounter.002.ndjson';
insert into quarantine.rows
    select _batch_id, 'crm', 'touches', _source_file, _row_number, _landing_date, 'channel_known', 'error',
           'test', to_json(r)::varchar, null, timestamp '2026-04-26 16:05:00', null
    from raw.crm_touches r where touch_id = 't-002' and _batch_id = 'b-late';
delete from raw.crm_touches where touch_id = 't-002' and _batch_id = 'b-late';
"""


def _dbt(database: Path, target: Path, *args: str) -> None:
    env = dict(os.environ, JOURNEY_WAREHOUSE_PATH=str(database), DO_NOT_TRACK="1",
               DBT_SEND_ANONYMOUS_USAGE_STATS="false")
    dbt = Path(sys.executable).with_name("dbt")
    proc = subprocess.run(
        [str(dbt) if dbt.exists() else "dbt", *args, "--project-dir", str(REPO), "--profiles-dir", str(REPO),
         "--target-path", str(target), "--log-path", str(target / "logs"), "--vars", json.dumps(VARS)],
        env=env, capture_output=True, text=True, check=False,
    )
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-2000:]


def _load(database: Path, *sql: str) -> None:
    with duckdb.connect(str(database)) as conn:
        for statement in sql:
            conn.execute(statement)


def _tables(conn: duckdb.DuckDBPyConnection, catalog: str) -> list[str]:
    rows = conn.execute(
        "select table_schema || '.' || table_name from information_schema.tables "
        "where table_catalog = ? and table_schema in ('staging', 'intermediate', 'marts') "
        "and table_type = 'BASE TABLE' "
        "order by 1",
        [catalog],
    ).fetchall()
    return [row[0] for row in rows]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    work = tmp_path_factory.mktemp("incremental")
    target = work / "target"
    incremental_db, rebuilt_db = work / "incremental.duckdb", work / "rebuilt.duckdb"

    _load(incremental_db, FIXTURE.read_text(encoding="utf-8"), FIRST_BATCH)
    _dbt(incremental_db, target, *BUILD)
    # A marker for enc-012 (no location elements; loaded on 2026-04-10, after the latest encounter that
    # has one, and unchanged since): a run that re-read enc-012 would delete it.
    _load(incremental_db, f"insert into staging.stg_ehr__encounter_locations by name select {MARKER}",
          *(f"insert into {table} by name select {TOUCHPOINT_MARKER}"
            for table in ("intermediate.int_touchpoints_unioned", "marts.fct_touchpoints")),
          # positions nobody will advance: a model since removed, a producer fct_touchpoints no longer reads
          "insert into ops.change_feed_positions values "
          "('int_retired', 'stg_crm__touches', 0, timestamp '2026-01-01'), "
          "('fct_touchpoints', 'stg_crm__touches', 0, timestamp '2026-01-01')")
    _load(incremental_db, _second_batch())
    _dbt(incremental_db, target, "run", "--select", "staging")  # the nightly's stage step
    with duckdb.connect(str(incremental_db), read_only=True) as conn:  # the stage step built the newer enc-002
        assert conn.execute(
            "select encounter_status from staging.stg_ehr__encounters where encounter_id = 'enc-002'"
        ).fetchone() == ("cancelled",)
    _load(incremental_db, GATE_REFUSALS)
    _dbt(incremental_db, target, *BUILD)
    with duckdb.connect(str(incremental_db)) as conn:
        kept = conn.execute(
            "select count(*) from staging.stg_ehr__encounter_locations where encounter_location_id = 'enc-012#99'"
        ).fetchone()
        conn.execute("delete from staging.stg_ehr__encounter_locations where encounter_location_id = 'enc-012#99'")
        touchpoints_kept = [
            conn.execute(f"select count(*) from {table} where touchpoint_id = 'review:rv-marker'").fetchone()[0]
            for table in ("intermediate.int_touchpoints_unioned", "marts.fct_touchpoints")
        ]
        for table in ("intermediate.int_touchpoints_unioned", "marts.fct_touchpoints"):
            conn.execute(f"delete from {table} where touchpoint_id = 'review:rv-marker'")
    (work / "marker_kept.json").write_text(json.dumps(kept), encoding="utf-8")
    (work / "touchpoint_marker_kept.json").write_text(json.dumps(touchpoints_kept), encoding="utf-8")
    model_path = Path("journey", "models", "marts", "access", "fct_encounters.sql")
    # what the second run compiled (the model's select) and ran (the materialization's statements)
    slots_path = Path("journey", "models", "staging", "ehr", "stg_ehr__slots.sql")
    access_path = Path("journey", "models", "marts", "access", "metrics_access_weekly.sql")
    touchpoints_path = Path("journey", "models", "intermediate", "int_touchpoints_unioned.sql")
    waits_path = Path("journey", "models", "intermediate", "int_encounter_waits_derived.sql")
    compiled_fct_encounters = "".join(
        (target / kind / path).read_text(encoding="utf-8")
        for path in (model_path, slots_path, access_path, touchpoints_path, waits_path)
        for kind in ("compiled", "run")
    )

    _load(rebuilt_db, FIXTURE.read_text(encoding="utf-8"), FIRST_BATCH, _second_batch(), GATE_REFUSALS)
    _dbt(rebuilt_db, target, *BUILD, "--full-refresh")
    (work / "incremental_fct_encounters.sql").write_text(compiled_fct_encounters, encoding="utf-8")
    return incremental_db, rebuilt_db, work / "incremental_fct_encounters.sql"


def test_second_run_took_the_incremental_path(built: tuple[Path, Path, Path]) -> None:
    compiled = built[2].read_text(encoding="utf-8")
    assert "changed_encounters" in compiled  # the is_incremental() branch of the model was compiled
    # and stg_ehr__slots' (only the changed drop dates are read from raw)
    assert "where _landing_date in (select changed_key from stg_ehr__slots__changed)" in compiled
    assert 'delete from "incremental"."marts"."fct_encounters"' in compiled  # and merged by delete+insert
    # metrics_access_weekly computes only counting days it does not hold (after its pre-hook)
    assert 'and snapshot_date not in (select count_date from "incremental"."marts"."metrics_access_weekly")' in compiled
    # int_touchpoints_unioned reads only the source records the change feed names
    assert "where appointment_id in (select changed_key from int_touchpoints_unioned__changed" in compiled
    # and int_encounter_waits_derived only the encounters it names
    assert "where encounter_id in (select changed_key from int_encounter_waits_derived__changed)" in compiled


def test_touchpoints_are_rebuilt_from_the_change_feed_only(built: tuple[Path, Path, Path]) -> None:
    # the marker touchpoint (no source of it changed) survived in both tables: nothing else was recomputed
    assert json.loads(built[2].with_name("touchpoint_marker_kept.json").read_text(encoding="utf-8")) == [1, 1]
    with duckdb.connect(str(built[0]), read_only=True) as conn:
        # every consumer read every row: the on-run-end hook pruned the feed (and the positions
        # nobody advances any more, which would have held it back)
        assert conn.execute("select count(*) from ops.change_feed").fetchone() == (0,)
        consumers = conn.execute(
            "select consumer, count(*) from ops.change_feed_positions group by all order by all"
        ).fetchall()
    assert consumers == [
        ("fct_encounters", 6), ("fct_touchpoints", 2), ("int_encounter_waits_derived", 4),
        ("int_touchpoints_unioned", 11),
    ]


def test_a_changed_snapshot_recounts_its_week(built: tuple[Path, Path, Path]) -> None:
    with duckdb.connect(str(built[0]), read_only=True) as conn:
        rows = conn.execute(
            "select count_date::varchar, slots_in_horizon, free_slots, booked_slots, blocked_slots "
            "from marts.metrics_access_weekly order by count_date"
        ).fetchall()
    # Friday 2026-02-20: slot-001 re-sent as blocked (was booked) beside slot-002 free
    assert rows == [("2026-02-20", 2, 1, 0, 1)]


def test_a_model_rereads_only_keys_loaded_since_its_own_last_build(built: tuple[Path, Path, Path]) -> None:
    # stg_ehr__encounter_locations holds no row loaded after 2026-03-20; its watermark
    # (ops.staging_watermarks) still knows it took in every encounter loaded up to its last build
    assert json.loads(built[2].with_name("marker_kept.json").read_text(encoding="utf-8")) == [1]
    with duckdb.connect(str(built[0]), read_only=True) as conn:
        watermarks = dict(conn.execute("select model, loaded_through::varchar from ops.staging_watermarks").fetchall())
    # the latest load (16:00) or, where the gate refused a row of that entity after it, the refusal (16:05)
    assert watermarks["stg_ehr__encounter_locations"] == "2026-04-26 16:05:00"
    assert watermarks["stg_ehr__appointments"] == "2026-04-26 16:00:00"


def test_slot_snapshots_are_recomputed_by_drop_date(built: tuple[Path, Path, Path]) -> None:
    with duckdb.connect(str(built[0]), read_only=True) as conn:
        rows = conn.execute(
            "select slot_snapshot_id, slot_status, _batch_id from staging.stg_ehr__slots order by 1"
        ).fetchall()
    assert rows == [
        # the re-sent copy (lastUpdated 23:30) replaced the 23:00 one; slot-002's duplicate stays one row
        ("slot-001@2026-02-20", "busy-unavailable", "b-late"),
        ("slot-002@2026-02-20", "free", "b-2003"),
        ("slot-003@2026-04-26", "free", "b-late"),
        # slot-001@2026-02-19 is gone: its only row was refused after the first run
    ]


def test_refused_and_superseded_versions_leave_the_staging_tables(built: tuple[Path, Path, Path]) -> None:
    with duckdb.connect(str(built[0]), read_only=True) as conn:
        # the newer enc-002 was refused after the stage step: the earlier version is back
        assert conn.execute(
            "select encounter_status, _batch_id from staging.stg_ehr__encounters where encounter_id = 'enc-002'"
        ).fetchone() == ("finished", "b-0202")
        # appt-002 was only in the superseded file
        assert conn.execute(
            "select count(*) from staging.stg_ehr__appointments where appointment_id = 'appt-002'"
        ).fetchone() == (0,)
        assert conn.execute("select count(*) from staging.stg_ehr__appointments").fetchone() == (6,)
        # t-001's later delivery replaced it; t-002's was refused, so the first delivery stays
        assert conn.execute(
            "select touch_id, touch_action, channel_code, _batch_id from staging.stg_crm__touches "
            "where touch_id in ('t-001', 't-002') order by 1"
        ).fetchall() == [("t-001", "click", "wechat", "b-late"), ("t-002", "click", "wechat", "b-1911")]


def test_late_and_changed_records_reach_the_incremental_facts(built: tuple[Path, Path, Path]) -> None:
    with duckdb.connect(str(built[0]), read_only=True) as conn:
        # the late survey was authored at 17:00, before qr-003 (18:00): it is now the primary response
        assert conn.execute(
            "select survey_response_id, nps_score from marts.fct_encounters where encounter_id = 'enc-006'"
        ).fetchone() == ("qr-100", 2)
        # enc-010 left with its re-delivered Encounter file, qr-200 with its survey file: enc-200 is P5's
        # first visit now and has no survey
        assert conn.execute(
            "select count(*) from marts.fct_encounters where encounter_id = 'enc-010'"
        ).fetchone() == (0,)
        assert conn.execute(
            "select visit_number, is_first_visit, survey_response_id from marts.fct_encounters "
            "where encounter_id = 'enc-200'"
        ).fetchone() == (1, True, None)
        # enc-007 is no visit any more: no visit number, no in-visit touchpoints
        assert conn.execute(
            "select is_visit, visit_number from marts.fct_encounters where encounter_id = 'enc-007'"
        ).fetchone() == (False, None)
        assert conn.execute(
            "select count(*) from marts.fct_touchpoints where encounter_id = 'enc-007' and journey_stage = 'in'"
        ).fetchone() == (0,)
        # the CRM touch made before the EHR knew the person now names them
        assert conn.execute(
            "select patient_key, is_patient_known from marts.fct_touchpoints where touchpoint_id = 'crm_click:t-100'"
        ).fetchone() == (PATIENT_X, True)
        # enc-100 is patient X's first visit; the late follow-up call is a touchpoint
        assert conn.execute(
            "select is_first_visit, door_to_provider_min from marts.fct_encounters where encounter_id = 'enc-100'"
        ).fetchone() == (True, 25.0)
        assert conn.execute(
            "select count(*) from marts.fct_touchpoints where touchpoint_id = 'follow_up_call:fu-100'"
        ).fetchone() == (1,)
        # cmp-002 now names cardiology, c-002 emergency; r-002 was posted at 09:00 (UTC+8: 01:00 UTC)
        assert conn.execute(
            "select touchpoint_id, department_code, occurred_at::varchar from marts.fct_touchpoints "
            "where touchpoint_id in ('crm_click:t-003', 'complaint:c-002', 'review:r-002') order by 1"
        ).fetchall() == [
            ("complaint:c-002", "emergency", "2026-04-03 01:00:00"),
            ("crm_click:t-003", "cardiology", "2026-02-24 04:00:00"),
            ("review:r-002", "unknown", "2026-03-22 01:00:00"),
        ]
        # area-c-01 is a treatment room: enc-201 (no in-progress status) saw a provider on entering it
        # at 10:05 (+08:00), 5 minutes after arriving
        assert conn.execute(
            "select provider_seen_at::varchar, provider_seen_source, door_to_provider_min from marts.fct_encounters "
            "where encounter_id = 'enc-201'"
        ).fetchone() == ("2026-03-23 02:05:00", "location", 5.0)
        assert conn.execute(
            "select occurred_at::varchar from marts.fct_touchpoints where touchpoint_id = 'provider_seen:enc-201'"
        ).fetchone() == ("2026-03-23 02:05:00",)


def test_incremental_history_equals_full_rebuild(built: tuple[Path, Path, Path]) -> None:
    incremental_db, rebuilt_db, _ = built
    with duckdb.connect(str(incremental_db), read_only=True) as conn:
        conn.execute(f"attach '{rebuilt_db}' as rebuilt (read_only)")
        incremental_tables = _tables(conn, "incremental")
        assert incremental_tables == _tables(conn, "rebuilt")
        assert {"marts.fct_encounters", "marts.fct_touchpoints"} <= set(incremental_tables)
        differences = {}
        for table in incremental_tables:
            columns = [row[0] for row in conn.execute(f"describe {table}").fetchall()]
            column_list = ", ".join(f'"{column}"' for column in columns)
            only_incremental = conn.execute(
                f"select count(*) from (select {column_list} from {table} "
                f"except all select {column_list} from rebuilt.{table})"
            ).fetchone()[0]
            only_rebuilt = conn.execute(
                f"select count(*) from (select {column_list} from rebuilt.{table} "
                f"except all select {column_list} from {table})"
            ).fetchone()[0]
            if only_incremental or only_rebuilt:
                differences[table] = (only_incremental, only_rebuilt)
        assert differences == {}



def test_every_model_seed_and_column_is_described(built: tuple[Path, Path, Path]) -> None:
    """What analysts see in the docs site: each model and seed, and each column the warehouse really
    has (information_schema, not only the columns the YAML lists), carries a description."""
    manifest = json.loads(built[2].with_name("target").joinpath("manifest.json").read_text(encoding="utf-8"))
    nodes = [node for node in manifest["nodes"].values() if node["resource_type"] in ("model", "seed")]
    assert len(nodes) >= 40
    missing = [node["name"] for node in nodes if not node["description"].strip()]
    with duckdb.connect(str(built[1]), read_only=True) as conn:
        for node in nodes:
            described = {name.lower() for name, column in node["columns"].items() if column["description"].strip()}
            columns = conn.execute(
                "select column_name from information_schema.columns where table_schema = ? and table_name = ?",
                [node["schema"], node["alias"] or node["name"]],
            ).fetchall()
            assert columns or node["config"]["materialized"] == "ephemeral", f"{node['name']} was not built"
            missing += [f"{node['name']}.{name}" for (name,) in columns if name.lower() not in described]
    assert missing == []
