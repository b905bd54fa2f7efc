"""The nightly job's steps as plain functions (the Prefect flow in flows/nightly.py only sequences
them). Each step takes the settings and returns a small report; the data stays in DuckDB.

    plan → prepare working copy → load (day by day, in order) → stage → validate staging
         → dbt build → validate marts → docs → record → publish
"""

from __future__ import annotations

import json
import logging
import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb

from journey.config import Settings
from journey.ingest.landing import LandedFile, discover, landed_days
from journey.ingest.loader import FileLoad, batch_id_for, load_file
from journey.ingest.pseudonymise import install_macros
from journey.warehouse.connection import connect_reader, connect_writer
from journey.warehouse.schema import ensure_schema

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunPlan:
    """Which files this run loads (late files for earlier days included), grouped by drop day."""

    run_id: str
    run_date: date
    days: tuple[date, ...]
    files: tuple[LandedFile, ...]

    def files_for(self, day: date) -> list[LandedFile]:
        return [file for file in self.files if file.landing_date == day]


@dataclass(frozen=True)
class DayLoad:
    """What loading one drop day did."""

    day: date
    files: int
    rows_read: int
    rows_loaded: int
    rows_quarantined: int
    rejected_files: tuple[str, ...]
    batch_ids: tuple[str, ...] = field(default=())


def new_run_id(now: datetime | None = None) -> str:
    now = now or datetime.now(UTC)
    return now.strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:6]


def _loaded_batches(settings: Settings) -> set[str]:
    """Batch ids already in the published warehouse's manifest."""
    if not settings.warehouse_path.exists():
        return set()
    conn = connect_reader(settings.warehouse_path)
    try:
        rows = conn.execute("select batch_id from raw.load_manifest").fetchall()
    except duckdb.CatalogException:
        rows = []
    finally:
        conn.close()
    return {row[0] for row in rows}


def plan_run(
    settings: Settings,
    run_date: date | None = None,
    *,
    start: date | None = None,
    end: date | None = None,
    run_id: str | None = None,
) -> RunPlan:
    """Every landed file on or before ``run_date`` (within [start, end] if given) not loaded yet.

    A file re-delivered with changed bytes is a new batch (its fingerprint differs) and is loaded.
    """
    days = landed_days(settings.landing_dir)
    if run_date is None:
        run_date = end or (days[-1] if days else datetime.now(UTC).date())
    selected = [d for d in days if d <= run_date and (start is None or d >= start) and (end is None or d <= end)]
    done = _loaded_batches(settings)
    files = tuple(f for f in discover(settings.landing_dir, selected) if batch_id_for(f) not in done)
    return RunPlan(
        run_id=run_id or new_run_id(),
        run_date=run_date,
        days=tuple(sorted({f.landing_date for f in files})),
        files=files,
    )


def open_work(settings: Settings, work: Path) -> duckdb.DuckDBPyConnection:
    conn = connect_writer(work, settings)
    ensure_schema(conn)
    install_macros(conn, settings.pseudonym_key())
    return conn


def load_day(settings: Settings, work: Path, plan: RunPlan, day: date, loaded_at: datetime) -> DayLoad:
    """Load every planned file of one drop day into the working copy."""
    conn = open_work(settings, work)
    try:
        loads: list[FileLoad] = [
            load_file(conn, landed, run_id=plan.run_id, loaded_at=loaded_at) for landed in plan.files_for(day)
        ]
        conn.execute("checkpoint")
    finally:
        conn.close()
    report = DayLoad(
        day=day,
        files=len(loads),
        rows_read=sum(item.rows_read for item in loads),
        rows_loaded=sum(item.rows_loaded for item in loads),
        rows_quarantined=sum(item.rows_quarantined for item in loads),
        rejected_files=tuple(f"{item.relative_path}: {item.reason}" for item in loads if item.status == "rejected"),
        batch_ids=tuple(item.batch_id for item in loads),
    )
    log.info(
        "loaded day %s: %d files, %d rows read, %d loaded, %d quarantined",
        day, report.files, report.rows_read, report.rows_loaded, report.rows_quarantined,
    )
    return report


@dataclass
class RunSummary:
    """The closing record of a run (also written to ops.runs and logs/runs.jsonl)."""

    run_id: str
    run_date: date
    first_day: date | None
    last_day: date | None
    started_at: datetime
    status: str = "running"
    stage: str | None = None
    files: int = 0
    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    checks_passed: int = 0
    checks_failed: int = 0
    stage_seconds: dict[str, float] = field(default_factory=dict)
    finished_at: datetime | None = None
    reason: str | None = None

    def add_loads(self, loads: list[DayLoad]) -> None:
        self.files += sum(item.files for item in loads)
        self.rows_read += sum(item.rows_read for item in loads)
        self.rows_loaded += sum(item.rows_loaded for item in loads)
        self.rows_quarantined += sum(item.rows_quarantined for item in loads)

    def as_json(self) -> str:
        return json.dumps(asdict(self), default=str, sort_keys=True)


def record_run(settings: Settings, summary: RunSummary, work: Path | None) -> None:
    """Append the run to logs/runs.jsonl, and to ops.runs in the working copy when it will publish."""
    settings.log_dir.mkdir(parents=True, exist_ok=True)
    with (settings.log_dir / "runs.jsonl").open("a", encoding="utf-8") as handle:
        handle.write(summary.as_json() + "\n")
    if work is None or not work.exists():
        return
    conn = connect_writer(work, settings)
    try:
        ensure_schema(conn)
        conn.execute(
            "insert or replace into ops.runs values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                summary.run_id, summary.run_date, summary.first_day, summary.last_day, summary.started_at,
                summary.finished_at, summary.status, summary.stage, summary.files, summary.rows_read,
                summary.rows_loaded, summary.rows_quarantined, summary.checks_passed, summary.checks_failed,
                json.dumps(summary.stage_seconds), summary.reason,
            ],
        )
        conn.execute("checkpoint")
    finally:
        conn.close()
