"""Every landed entry is loaded or named (issue #21 item 1), through the real nightly flow: hand-written
FHIR R4 Bulk Data drops with a job sub-folder and upper-case extensions load; a file in the wrong
source folder, drop folders named ``latest`` and ``20260302``, a symlink, a FIFO and a zip archive are
named with their reason in the run summary, runs.jsonl, the warehouse and `journey quarantine list`,
and the night ends degraded (exit 4)."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from journey.config import Settings
from journey.ingest.entities import file_format
from journey.quality.health import check_run_health
from journey.runs import RunPlan, load_days, plan_run
from journey.warehouse.schema import ensure_schema

DAY = date(2026, 3, 2)
NEXT = DAY + timedelta(days=1)


def _encounter(index: int) -> dict[str, object]:
    start = datetime(2026, 3, 2, 8, 0) + timedelta(minutes=17 * index)
    return {
        "resourceType": "Encounter", "id": f"enc-{index}", "status": "finished",
        "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
        "subject": {"reference": f"Patient/pat-{index % 5}"},
        "period": {"start": start.isoformat() + "+08:00", "end": (start + timedelta(hours=2)).isoformat() + "+08:00"},
    }


def _ndjson(resources: list[dict[str, object]]) -> str:
    return "".join(json.dumps(resource) + "\n" for resource in resources)


PATIENTS = _ndjson([{"resourceType": "Patient", "id": f"pat-{i}", "gender": "female"} for i in range(5)])
ENCOUNTERS = _ndjson([_encounter(i) for i in range(24)])

#: what the night must name, and why
REFUSED = {
    f"crm/{DAY}/Encounter.ndjson": "wrong_source",
    "ehr/latest/": "bad_drop_folder",
    "ehr/20260302/": "bad_drop_folder",
    f"ehr/{DAY}/Linked.ndjson": "symlink",
    f"ehr/{DAY}/Slot.ndjson": "not_a_regular_file",
    f"ehr/{DAY}/Encounter.ndjson.zip": "unsupported_compression",
}


def _write(path: Path, content: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return path


def _land(landing: Path) -> None:
    drop = landing / "ehr" / DAY.isoformat()
    _write(drop / "Patient.NDJSON", PATIENTS)
    _write(drop / "job-17" / "Encounter.000.ndjson", ENCOUNTERS)  # bulk export, nested by job
    _write(landing / "crm" / DAY.isoformat() / "Encounter.ndjson", ENCOUNTERS)
    _write(landing / "ehr" / "latest" / "Encounter.ndjson", ENCOUNTERS)
    _write(landing / "ehr" / "20260302" / "Encounter.ndjson", ENCOUNTERS)
    (drop / "Linked.ndjson").symlink_to(drop / "Patient.NDJSON")
    os.mkfifo(drop / "Slot.ndjson")  # unreadable for root too: opening it would block
    _write(drop / "Encounter.ndjson.zip", b"PK\x03\x04 not really a zip")
    # the next day's drop, not part of tonight: a gzipped bulk file
    _write(landing / "ehr" / NEXT.isoformat() / "Encounter.001.ndjson.gz", gzip.compress(ENCOUNTERS.encode()))


def _journey(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    path = os.pathsep.join([str(settings.project_dir / "src"), str(settings.project_dir),
                            os.environ.get("PYTHONPATH", "")])
    return subprocess.run([str(Path(sys.executable).with_name("journey")), *args],
                          env={**os.environ, "PYTHONPATH": path}, capture_output=True, text=True, timeout=900)


@pytest.mark.slow
@pytest.mark.xdist_group("prefect")
def test_a_night_names_every_entry_it_does_not_load_and_ends_degraded(settings: Settings) -> None:
    _land(settings.landing_dir)
    done = _journey(settings, "run", "--date", DAY.isoformat())
    assert done.returncode == 4, done.stdout + done.stderr
    assert " degraded in " in done.stdout
    [not_loaded] = [line for line in done.stdout.splitlines() if line.strip().startswith("not loaded:")]
    assert "6 landed entries: " in not_loaded
    for path, reason in REFUSED.items():
        assert f"{path} ({reason})" in not_loaded
    assert "6 landed entries were not loaded: " in done.stdout and "[rule: files_not_loaded]" in done.stdout
    assert "enc-1" not in done.stdout + done.stderr, "paths and reasons, never a file's content"

    with duckdb.connect(str(settings.warehouse_path), read_only=True) as conn:
        loaded = dict(conn.execute("select _source_file, count(*) from raw.ehr_encounter group by 1").fetchall())
        assert loaded == {f"ehr/{DAY}/job-17/Encounter.000.ndjson": 24}
        assert conn.execute("select count(*) from raw.ehr_patient").fetchone() == (5,)
        assert conn.execute("select count(*) from marts.fct_encounters").fetchone() == (24,)
        manifest = conn.execute("select path, status from raw.load_manifest order by path").fetchall()
        assert manifest == [(f"ehr/{DAY}/Patient.NDJSON", "loaded"), (f"ehr/{DAY}/job-17/Encounter.000.ndjson",
                                                                       "loaded")]
        recorded = dict(conn.execute("select path, reason from raw.files_not_loaded").fetchall())
        assert recorded == REFUSED
        [(status, reason)] = conn.execute("select status, reason from ops.runs").fetchall()
    assert status == "degraded" and "files_not_loaded" in reason
    [logged] = [json.loads(line) for line in (settings.log_dir / "runs.jsonl").read_text().splitlines()]
    assert logged["status"] == "degraded"
    assert {entry["path"]: entry["reason"] for entry in logged["files_not_loaded"]} == REFUSED

    listed = _journey(settings, "quarantine", "list")
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    header = lines.index("files not loaded by the last published run (6):")
    assert sorted(line.split("  ")[1:3] for line in lines[header + 1:header + 7]) == sorted(
        [path, reason] for path, reason in REFUSED.items())

    # The same entries, unchanged, are nothing new: the next run is skipped and still names them.
    again = _journey(settings, "run", "--date", DAY.isoformat())
    assert again.returncode == 0, again.stdout + again.stderr
    assert " skipped in " in again.stdout and "not loaded:" in again.stdout

    # Tomorrow's gzipped bulk file is planned as a FHIR file, not refused and not ignored.
    plan = plan_run(settings, NEXT)
    assert [(landed.relative_path, file_format(landed.path.name)) for landed in plan.files] == [
        (f"ehr/{NEXT}/Encounter.001.ndjson.gz", ("ndjson", "gzip"))]
    assert {entry.relative_path for entry in plan.refused} == set(REFUSED)


def test_a_file_still_being_written_is_not_recorded_and_is_planned_again_next_run(settings: Settings) -> None:
    """Refused as still being written, the file is in raw.files_not_loaded, not in the manifest; the next
    plan, once it has settled, loads it."""
    _write(settings.landing_dir / "ehr" / DAY.isoformat() / "Encounter.ndjson", ENCOUNTERS)
    busy = plan_run(settings.model_copy(update={"landing_settle_seconds": 3600}), DAY, run_id="night-1")
    assert (busy.files, [entry.reason for entry in busy.refused], busy.refused_new) == ((), ["still_being_written"], 1)
    load_days(settings, settings.work_path, busy, datetime(2026, 3, 3, 2))
    with duckdb.connect(str(settings.work_path), read_only=True) as conn:
        assert conn.execute("select count(*) from raw.load_manifest").fetchone() == (0,)
        assert conn.execute("select run_id, path, reason from raw.files_not_loaded").fetchall() == [
            ("night-1", f"ehr/{DAY}/Encounter.ndjson", "still_being_written")]
    settled = plan_run(settings, DAY, run_id="night-2")
    assert [landed.relative_path for landed in settled.files] == [f"ehr/{DAY}/Encounter.ndjson"]
    assert settled.refused == ()


def test_run_health_names_the_entries_of_tonight_only(settings: Settings) -> None:
    """``files_not_loaded`` judges this run's rows of raw.files_not_loaded: degraded, naming each."""
    with duckdb.connect(str(settings.work_path)) as conn:
        ensure_schema(conn)
        conn.executemany(
            "insert into raw.files_not_loaded values (?, ?, 'ehr', null, ?, 'detail', null, null, ?)",
            [["last-night", "ehr/old.zip", "unsupported_compression", datetime(2026, 3, 2)],
             ["tonight", "ehr/latest/", "bad_drop_folder", datetime(2026, 3, 3)],
             ["tonight", "crm/2026-03-03/Encounter.ndjson", "wrong_source", datetime(2026, 3, 3)]],
        )
    report = check_run_health(settings, settings.work_path, [], "tonight")
    assert report.status == "degraded"
    assert report.reason == (
        "discover/landing: 2 landed entries were not loaded: crm/2026-03-03/Encounter.ndjson (wrong_source), "
        "ehr/latest/ (bad_drop_folder); `journey quarantine list` names each with its reason [rule: files_not_loaded]"
    )
    assert check_run_health(settings, settings.work_path, [], "another-night").status == "succeeded"


def test_plan_records_nothing_new_for_entries_a_published_run_already_named(settings: Settings) -> None:
    _write(settings.landing_dir / "ehr" / "latest" / "Encounter.ndjson", ENCOUNTERS)
    plan: RunPlan = plan_run(settings, DAY, run_id="night-1")
    assert ([entry.relative_path for entry in plan.refused], plan.refused_new) == (["ehr/latest/"], 1)
    with duckdb.connect(str(settings.warehouse_path)) as conn:
        ensure_schema(conn)
        [entry] = plan.refused
        conn.execute("insert into raw.files_not_loaded values ('night-1', ?, ?, null, ?, ?, null, ?, ?)",
                     [entry.relative_path, entry.source, entry.reason, entry.detail, entry.file_stat,
                      datetime(2026, 3, 3)])
    assert plan_run(settings, DAY).refused_new == 0
