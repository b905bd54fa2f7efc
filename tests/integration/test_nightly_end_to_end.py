"""The real thing, end to end: generator → Prefect flow (temporary local API) → DuckDB raw → GX →
dbt build → publish, for two days of a tiny hospital. Expected counts are recomputed here straight
from the landing files with the standard library, independently of the loader.
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from datetime import date
from pathlib import Path

import duckdb
import pytest

from journey.config import Settings
from journey_demo import generate

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("prefect")]

START = date(2026, 3, 2)


def _landing_counts(landing: Path, days: list[date]) -> tuple[Counter[str], set[str], set[str]]:
    """Rows per FHIR resource type / file stem, distinct encounter ids and patient ids, by hand."""
    counts: Counter[str] = Counter()
    encounters: set[str] = set()
    patients: set[str] = set()
    for day in days:
        for path in sorted(landing.glob(f"*/{day.isoformat()}/*")):
            if path.suffix == ".ndjson":
                for line in path.read_text(encoding="utf-8").splitlines():
                    if not line.strip():
                        continue
                    resource = json.loads(line)
                    counts[resource["resourceType"]] += 1
                    if resource["resourceType"] == "Encounter":
                        encounters.add(resource["id"])
                    if resource["resourceType"] == "Patient":
                        patients.add(resource["id"])
            elif path.suffix == ".jsonl":
                counts[path.stem] += sum(1 for line in path.read_text(encoding="utf-8").splitlines() if line.strip())
            elif path.suffix == ".csv":
                with path.open(encoding="utf-8", newline="") as handle:
                    counts[path.stem] += sum(1 for _ in csv.DictReader(handle))
    return counts, encounters, patients


def _one(conn: duckdb.DuckDBPyConnection, sql: str) -> object:
    row = conn.execute(sql).fetchone()
    assert row is not None
    return row[0]


def test_two_nightly_runs_load_build_and_publish(settings: Settings) -> None:
    from flows.nightly import nightly

    generate(settings.landing_dir, settings.generator_dir, start=START, days=2, scale=0.02, seed=7)
    counts, encounter_ids, patient_ids = _landing_counts(settings.landing_dir, [START])
    assert counts["Encounter"] > 5, "the tiny hospital should still have encounters on day one"

    first = nightly(run_date=START)
    assert first["status"] == "succeeded"
    assert first["days"] == [START.isoformat()]
    assert first["rows_quarantined"] == 0
    assert first["rows_read"] == first["rows_loaded"] == sum(counts.values())

    conn = duckdb.connect(str(settings.warehouse_path), read_only=True)
    try:
        assert _one(conn, "select count(*) from raw.ehr_encounter") == counts["Encounter"]
        assert _one(conn, "select count(*) from raw.ehr_patient") == counts["Patient"]
        assert _one(conn, "select count(*) from raw.crm_touches") == counts["touches"]
        unbalanced = "select count(*) from raw.load_manifest where rows_read <> rows_loaded + rows_quarantined"
        assert _one(conn, unbalanced) == 0
        assert _one(conn, "select count(*) from marts.fct_encounters") == len(encounter_ids)
        assert _one(conn, "select count(*) from marts.dim_patient where patient_key <> 'unknown'") == len(patient_ids)
        assert _one(conn, "select count(*) from staging.stg_ehr__encounters") == len(encounter_ids)
        assert _one(conn, "select sum(encounters) from marts.metrics_wait_daily") == len(encounter_ids)
    finally:
        conn.close()

    second = nightly(run_date=date(2026, 3, 3))
    counts2, encounter_ids2, _ = _landing_counts(settings.landing_dir, [START, date(2026, 3, 3)])
    assert second["days"] == ["2026-03-03"], "day one must not be loaded twice"
    conn = duckdb.connect(str(settings.warehouse_path), read_only=True)
    try:
        assert _one(conn, "select count(*) from raw.ehr_encounter") == counts2["Encounter"]
        assert _one(conn, "select count(*) from marts.fct_encounters") == len(encounter_ids2)
        assert _one(conn, "select count(distinct run_id) from ops.runs where status = 'succeeded'") == 2
        assert _one(conn, "select count(*) from raw.load_manifest") == len(list(settings.landing_dir.glob("*/*/*")))
    finally:
        conn.close()
    assert (settings.site_dir / "dbt" / "index.html").is_file()
    assert not settings.work_path.exists(), "the working copy is swapped in, not left behind"

    third = nightly(run_date=date(2026, 3, 3))
    assert third["files"] == 0, "a rerun with nothing new loads nothing"
    assert third["status"] == "skipped"
