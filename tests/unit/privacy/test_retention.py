"""Retention of landed files: only files loaded into the published warehouse with the same bytes, and
old enough (by drop day and by load day), are deleted; each deletion is one structured log record."""

from __future__ import annotations

import json
import logging
import os
from datetime import date, datetime
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from journey.config import Settings
from journey.ingest import landing
from journey.ingest.landing import discover
from journey.ingest.loader import load_file
from journey.ingest.pseudonymise import install_macros
from journey.privacy.retention import apply_retention
from journey.warehouse.schema import ensure_schema

OLD, RECENT, TODAY = date(2026, 1, 5), date(2026, 2, 20), date(2026, 3, 1)
ENCOUNTER = {"resourceType": "Encounter", "id": "e1", "status": "finished", "class": {"code": "AMB"},
             "subject": {"reference": "Patient/p1"}}


def _land(settings: Settings, source: str, day: date, name: str, text: str) -> Path:
    folder = settings.landing_dir / source / day.isoformat()
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _publish(settings: Settings, days: list[date], loaded_at: datetime, only: set[str] | None = None) -> None:
    """Load the given drops into the published warehouse file (as a nightly run would have)."""
    conn = duckdb.connect(str(settings.warehouse_path))
    try:
        ensure_schema(conn)
        install_macros(conn, b"secret")
        for landed in discover(settings.landing_dir, days):
            if only is None or landed.relative_path in only:
                load_file(conn, landed, run_id="r", loaded_at=loaded_at)
    finally:
        conn.close()


@pytest.fixture
def landed(settings: Settings) -> Settings:
    settings.warehouse_dir.mkdir(parents=True, exist_ok=True)
    _land(settings, "ehr", OLD, "Encounter.ndjson", json.dumps(ENCOUNTER) + "\n")
    _land(settings, "ehr", OLD, "Patient.ndjson", "")  # empty export: recorded as 'empty', deletable
    _land(settings, "crm", OLD, "notes.txt", "not journey's")  # refused at discovery, never loaded: kept
    _land(settings, "relations", OLD, "complaints.csv", "complaint_id,received_at\nc1,2026-01-05T09:00:00\n")
    _land(settings, "ehr", RECENT, "Encounter.ndjson", json.dumps(ENCOUNTER) + "\n")
    _publish(settings, [OLD, RECENT], datetime(2026, 1, 6), only={
        "ehr/2026-01-05/Encounter.ndjson", "ehr/2026-01-05/Patient.ndjson", "crm/2026-01-05/notes.txt",
        "relations/2026-01-05/complaints.csv", "ehr/2026-02-20/Encounter.ndjson",
    })
    # landed after the load: never loaded, and a loaded file re-delivered with other bytes
    _land(settings, "crm", OLD, "touches.jsonl", '{"touch_id": "t1"}\n')
    _land(settings, "relations", OLD, "complaints.csv", "complaint_id,received_at\nc2,2026-01-05T10:00:00\n")
    return settings


def _remaining(settings: Settings) -> set[str]:
    return {p.relative_to(settings.landing_dir).as_posix() for p in settings.landing_dir.rglob("*") if p.is_file()}


def test_only_loaded_old_files_are_deleted_with_a_log_record(
    landed: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="journey.privacy.retention"):
        report = apply_retention(landed, today=TODAY, retention_days=30)
    assert sorted(item.relative_path for item in report.deleted) == [
        "ehr/2026-01-05/Encounter.ndjson", "ehr/2026-01-05/Patient.ndjson",
    ]
    assert _remaining(landed) == {
        "crm/2026-01-05/notes.txt", "crm/2026-01-05/touches.jsonl", "relations/2026-01-05/complaints.csv",
        "ehr/2026-02-20/Encounter.ndjson",
    }
    assert not (landed.landing_dir / "ehr" / OLD.isoformat()).exists(), "an emptied drop folder is removed"
    assert report.kept == {"too_recent": 1, "not_loaded": 3}
    records = [r for r in caplog.records if r.getMessage() == "landed file deleted after retention"]
    assert [(r.file, r.landing_date, r.loaded_on) for r in records] == [  # type: ignore[attr-defined]
        ("ehr/2026-01-05/Encounter.ndjson", "2026-01-05", "2026-01-06"),
        ("ehr/2026-01-05/Patient.ndjson", "2026-01-05", "2026-01-06"),
    ]


def test_dry_run_deletes_nothing(landed: Settings) -> None:
    before = _remaining(landed)
    report = apply_retention(landed, today=TODAY, retention_days=30, dry_run=True)
    assert len(report.deleted) == 2 and "would delete 2 file(s)" in report.summary()
    assert _remaining(landed) == before


@pytest.mark.parametrize("days", [0, None])
def test_retention_off_keeps_everything(landed: Settings, days: int | None) -> None:
    before = _remaining(landed)
    landed.landing_retention_days = days
    report = apply_retention(landed, today=TODAY)
    assert report.deleted == [] and "retention is off" in report.summary()
    assert _remaining(landed) == before


def test_a_late_file_is_kept_for_the_full_period_after_its_load(settings: Settings) -> None:
    settings.warehouse_dir.mkdir(parents=True, exist_ok=True)
    _land(settings, "ehr", OLD, "Encounter.ndjson", json.dumps(ENCOUNTER) + "\n")
    _publish(settings, [OLD], datetime(2026, 2, 25))  # an old day's file, delivered and loaded late
    assert apply_retention(settings, today=TODAY, retention_days=30).deleted == []
    assert len(apply_retention(settings, today=date(2026, 3, 30), retention_days=30).deleted) == 1


def test_nothing_is_deleted_without_a_published_warehouse(settings: Settings) -> None:
    _land(settings, "ehr", OLD, "Encounter.ndjson", json.dumps(ENCOUNTER) + "\n")
    report = apply_retention(settings, today=TODAY, retention_days=1)
    assert report.deleted == [] and report.kept == {"not_loaded": 1}


def test_a_file_in_a_job_sub_folder_is_deleted_too_and_its_emptied_folders_go(settings: Settings) -> None:
    """Bulk exports nest by job; the run loads such files, so retention deletes them like any other."""
    settings.warehouse_dir.mkdir(parents=True, exist_ok=True)
    _land(settings, "ehr", OLD, "job-17/part-1/Encounter.000.ndjson", json.dumps(ENCOUNTER) + "\n")
    _publish(settings, [OLD], datetime(2026, 1, 6))
    report = apply_retention(settings, today=TODAY, retention_days=30)
    assert [item.relative_path for item in report.deleted] == ["ehr/2026-01-05/job-17/part-1/Encounter.000.ndjson"]
    assert not (settings.landing_dir / "ehr" / OLD.isoformat()).exists(), "emptied job and drop folders removed"


def test_a_symlink_in_landing_is_neither_followed_nor_deleted(landed: Settings, tmp_path: Path) -> None:
    outside = tmp_path / "outside.ndjson"
    outside.write_text(json.dumps(ENCOUNTER) + "\n", encoding="utf-8")
    (landed.landing_dir / "ehr" / OLD.isoformat() / "link.ndjson").symlink_to(outside)
    report = apply_retention(landed, today=TODAY, retention_days=30)
    assert report.kept["unsafe_path"] == 1
    assert outside.exists()


def test_cli_retention_dry_run(landed: Settings) -> None:
    from journey.cli import app

    result = CliRunner().invoke(app, ["retention", "--dry-run", "--days", "30"])
    assert result.exit_code == 0, result.output
    assert "retention 30 days" in result.output
    assert len(_remaining(landed)) == 6, "a dry run deletes nothing"


def test_a_file_whose_stat_is_as_loaded_is_not_read_again(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    settings.warehouse_dir.mkdir(parents=True, exist_ok=True)
    old = _land(settings, "ehr", OLD, "Encounter.ndjson", json.dumps(ENCOUNTER) + "\n")
    changed = _land(settings, "relations", OLD, "complaints.csv", "complaint_id,received_at\nc1,2026-01-05T09:00:00\n")
    for path in (old, changed):  # landed an hour before the load: not "racy", so its stat is recorded
        stat = path.stat()
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns - 3_600_000_000_000))
    _publish(settings, [OLD], datetime(2026, 1, 6))
    changed.write_text("complaint_id,received_at\nc2,2026-01-05T10:00:00\n", encoding="utf-8")  # same size
    read: list[str] = []
    hash_file = landing.sha256_of
    monkeypatch.setattr(landing, "sha256_of", lambda path: read.append(path.name) or hash_file(path))

    report = apply_retention(settings, today=TODAY, retention_days=30)
    assert [item.relative_path for item in report.deleted] == ["ehr/2026-01-05/Encounter.ndjson"]
    assert report.kept == {"not_loaded": 1}, "the re-delivered bytes are not the loaded ones"
    assert read == ["complaints.csv"], "only the file changed since its load is read"


def test_a_warehouse_published_before_file_stat_still_allows_retention(landed: Settings) -> None:
    """No stat recorded (the column is newer than the warehouse): every old file is hashed, and the
    safely loaded ones are deleted as with a current warehouse."""
    conn = duckdb.connect(str(landed.warehouse_path))
    conn.execute("alter table raw.load_manifest drop column file_stat")
    conn.close()
    report = apply_retention(landed, today=TODAY, retention_days=30)
    assert sorted(item.relative_path for item in report.deleted) == [
        "ehr/2026-01-05/Encounter.ndjson", "ehr/2026-01-05/Patient.ndjson",
    ]
    assert report.kept == {"too_recent": 1, "not_loaded": 3}
