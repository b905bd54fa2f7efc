"""FHIR parsing of each resource type, through the real loader and real dbt models.

Covers: a resource with only its required elements (what Synthea-like exports give), each timestamp
style an EHR uses (statusHistory, location periods, only `period`) with the element each derived
time came from, bulk-export file naming, unused types and unknown extensions.
"""

from __future__ import annotations

import json
from datetime import date, datetime

import duckdb
import pytest

from journey.config import Settings
from journey.ingest.landing import discover
from journey.ingest.loader import load_file
from journey.runs import open_work
from journey.transform.dbt import run_dbt

pytestmark = pytest.mark.slow
DAY = date(2026, 1, 5)

MINIMAL = [
    {"resourceType": "Patient", "id": "p-min"},
    {"resourceType": "Encounter", "id": "e-min", "status": "finished", "class": {"code": "AMB"},
     "subject": {"reference": "Patient/p-min"}},
    {"resourceType": "Appointment", "id": "a-min", "status": "booked"},
    {"resourceType": "Slot", "id": "s-min", "status": "free"},
    {"resourceType": "QuestionnaireResponse", "id": "q-min", "encounter": {"reference": "Encounter/e-min"}},
    {"resourceType": "Location", "id": "l-min"},
]

ED_STATUS_HISTORY = {
    "resourceType": "Encounter", "id": "e-sh", "status": "finished", "class": {"code": "EMER"},
    "subject": {"reference": "Patient/p-min"},
    "serviceType": {"coding": [{"code": "emergency"}]},
    "extension": [{"url": "https://example.org/unknown", "valueString": "ignored"}],
    "period": {"start": "2026-01-05T08:00:00+08:00", "end": "2026-01-05T12:00:00+08:00"},
    "statusHistory": [
        {"status": "arrived", "period": {"start": "2026-01-05T08:00:00+08:00", "end": "2026-01-05T08:10:00+08:00"}},
        {"status": "triaged", "period": {"start": "2026-01-05T08:10:00+08:00", "end": "2026-01-05T08:45:00+08:00"}},
        {"status": "in-progress", "period": {"start": "2026-01-05T08:45:00+08:00", "end": "2026-01-05T11:30:00+08:00"}},
        {"status": "finished", "period": {"start": "2026-01-05T11:30:00+08:00"}},
    ],
}
ED_LOCATIONS = {
    "resourceType": "Encounter", "id": "e-loc", "status": "finished", "class": {"code": "EMER"},
    "subject": {"reference": "Patient/p-min"},
    "serviceType": {"coding": [{"code": "emergency"}]},
    "period": {"start": "2026-01-05T09:00:00Z", "end": "2026-01-05T13:00:00Z"},
    "location": [
        {"location": {"reference": "Location/ed-waiting-room"},
         "period": {"start": "2026-01-05T09:00:00Z", "end": "2026-01-05T09:05:00Z"}},
        {"location": {"reference": "Location/ed-triage"},
         "period": {"start": "2026-01-05T09:05:00Z", "end": "2026-01-05T09:20:00Z"}},
        {"location": {"reference": "Location/ed-treatment-3"},
         "period": {"start": "2026-01-05T10:00:00Z", "end": "2026-01-05T12:40:00Z"}},
    ],
}
ONLY_PERIOD = {
    "resourceType": "Encounter", "id": "e-period", "status": "finished", "class": {"code": "IMP"},
    "subject": {"reference": "Patient/p-min"},
    "period": {"start": "2026-01-02T10:00:00Z", "end": "2026-01-05T10:00:00Z"},
}


def _build(settings: Settings) -> duckdb.DuckDBPyConnection:
    folder = settings.landing_dir / "ehr" / DAY.isoformat()
    folder.mkdir(parents=True)
    lines = [json.dumps(r) for r in MINIMAL]
    (folder / "Encounter.000.ndjson").write_text("\n".join(lines[:3]) + "\n", encoding="utf-8")
    (folder / "part-b.ndjson").write_text("\n".join(lines[3:]) + "\n", encoding="utf-8")
    (folder / "Encounter.001.ndjson").write_text(
        "\n".join(json.dumps(r) for r in (ED_STATUS_HISTORY, ED_LOCATIONS, ONLY_PERIOD)) + "\n"
        + json.dumps({"resourceType": "Procedure", "id": "proc-1"}) + "\n",
        encoding="utf-8",
    )
    conn = open_work(settings, settings.work_path)
    for landed in discover(settings.landing_dir, [DAY]):
        load_file(conn, landed, run_id="r", loaded_at=datetime(2026, 1, 6))
    conn.close()
    run_dbt(settings, settings.work_path, "build", "--select", "+staging", "int_encounter_waits_derived",
            "--resource-type", "model", "--resource-type", "seed")
    return duckdb.connect(str(settings.work_path), read_only=True)


def test_each_resource_type_parses_even_with_only_required_elements(settings: Settings) -> None:
    conn = _build(settings)
    try:
        counts = {
            table: conn.execute(f"select count(*) from staging.{table}").fetchone()[0]
            for table in ("stg_ehr__patients", "stg_ehr__encounters", "stg_ehr__appointments", "stg_ehr__slots",
                          "stg_ehr__questionnaire_responses", "stg_ehr__locations")
        }
        assert counts == {"stg_ehr__patients": 1, "stg_ehr__encounters": 4, "stg_ehr__appointments": 1,
                          "stg_ehr__slots": 1, "stg_ehr__questionnaire_responses": 1, "stg_ehr__locations": 1}
        row = conn.execute(
            "select encounter_class, department_code, period_start_at, appointment_id "
            "from staging.stg_ehr__encounters where encounter_id = 'e-min'"
        ).fetchone()
        assert row == ("AMB", None, None, None)
        survey = conn.execute("select nps_score, encounter_id from staging.stg_ehr__questionnaire_responses")
        assert survey.fetchone() == (None, "e-min")
        assert conn.execute("select resource_type from raw.ehr_other").fetchall() == [("Procedure",)]
    finally:
        conn.close()


def test_derived_times_and_the_element_each_came_from(settings: Settings) -> None:
    conn = _build(settings)
    try:
        rows = {
            row[0]: row[1:]
            for row in conn.execute(
                """select encounter_id, arrived_at, arrived_source, triaged_at, triaged_source,
                          provider_seen_at, provider_seen_source, departed_at, departed_source
                   from intermediate.int_encounter_waits_derived"""
            ).fetchall()
        }
    finally:
        conn.close()
    # statusHistory, +08:00 → UTC
    assert rows["e-sh"] == (
        datetime(2026, 1, 5, 0, 0), "status_history", datetime(2026, 1, 5, 0, 10), "status_history",
        datetime(2026, 1, 5, 0, 45), "status_history", datetime(2026, 1, 5, 3, 30), "status_history",
    )
    # location periods: arrival = first location, provider = treatment room; departure = the encounter's
    # own period.end (13:00), not the last location's end (12:40) — a bed may be released long after discharge
    assert rows["e-loc"] == (
        datetime(2026, 1, 5, 9, 0), "location", datetime(2026, 1, 5, 9, 5), "location",
        datetime(2026, 1, 5, 10, 0), "location", datetime(2026, 1, 5, 13, 0), "period",
    )
    # only period: arrival and departure from period, nothing else known
    assert rows["e-period"] == (
        datetime(2026, 1, 2, 10, 0), "period", None, "none", None, "none", datetime(2026, 1, 5, 10, 0), "period",
    )
