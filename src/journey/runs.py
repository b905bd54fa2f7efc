"""The nightly job's steps as plain functions (the Prefect flow in flows/nightly.py only sequences
them). Each step takes the settings and returns a small report; the data stays in DuckDB.

    plan → prepare working copy → load (day by day, in order, a few files at a time) → stage → validate staging
         → dbt build → validate marts → docs → record → publish
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb

from journey.config import Settings
from journey.ingest.landing import LandedFile, RefusedEntry, landed_days, survey
from journey.ingest.loader import FileLoad, already_loaded, batch_id_for, load_file
from journey.ingest.pseudonymise import install_macros
from journey.ingest.readers import ReadLimits
from journey.mapping import load_code_map
from journey.ops import evidence, runlog
from journey.ops.clock import stamp_after
from journey.profile import record_night
from journey.warehouse.connection import connect_writer
from journey.warehouse.manifest import published_manifest, recorded_fingerprints, recorded_refusals
from journey.warehouse.publish import publish
from journey.warehouse.schema import ensure_schema

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunPlan:
    """Which files this run loads (late files for earlier days included), grouped by drop day, and
    every landed entry it does not load, with the reason (``refused``, recorded by ``load_days``)."""

    run_id: str
    run_date: date
    days: tuple[date, ...]
    files: tuple[LandedFile, ...]
    refused: tuple[RefusedEntry, ...] = ()
    #: of ``refused``, entries no published run recorded yet (as they are now, for that reason)
    refused_new: int = 0

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
    #: files that changed while they were read (``deferred``: not loaded, read again next run)
    deferred_files: tuple[str, ...] = field(default=())


def new_run_id(now: datetime | None = None) -> str:
    now = now or datetime.now(UTC)
    return now.strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:6]


def plan_run(
    settings: Settings,
    run_date: date | None = None,
    *,
    start: date | None = None,
    end: date | None = None,
    run_id: str | None = None,
) -> RunPlan:
    """Every landed file on or before ``run_date`` (within [start, end] if given) not loaded yet, and
    every entry under the landing root refused (journey.ingest.landing.survey: those in the selected
    drops, and those outside any drop folder).

    A file re-delivered with changed bytes is a new batch (its fingerprint differs) and is loaded.
    """
    load_code_map(settings)  # the site's code mapping is valid before anything loads (journey.mapping)
    days = landed_days(settings.landing_dir)
    if run_date is None:
        run_date = end or (days[-1] if days else datetime.now(UTC).date())
    selected = [d for d in days if d <= run_date and (start is None or d >= start) and (end is None or d <= end)]
    manifest = published_manifest(settings.warehouse_path)
    done = {entry.batch_id for entry in manifest if entry.in_effect}
    known = recorded_fingerprints(manifest)
    found = survey(settings.landing_dir, selected, known, settle_seconds=settings.landing_settle_seconds)
    files = tuple(f for f in found.files if batch_id_for(f) not in done)
    recorded = recorded_refusals(settings.warehouse_path)
    return RunPlan(
        run_id=run_id or new_run_id(),
        run_date=run_date,
        days=tuple(sorted({f.landing_date for f in files})),
        files=files,
        refused=tuple(found.refused),
        refused_new=sum((e.relative_path, e.reason, e.file_stat) not in recorded for e in found.refused),
    )


def open_work(settings: Settings, work: Path) -> duckdb.DuckDBPyConnection:
    conn = connect_writer(work, settings)
    ensure_schema(conn)
    install_macros(conn, settings.pseudonym_key())
    return conn


def run_stamp(settings: Settings, work: Path) -> datetime:
    """This run's load stamp: the clock, but never at or before a stamp the working copy already
    holds (journey.ops.clock: incremental staging compares them)."""
    conn = connect_writer(work, settings)
    try:
        ensure_schema(conn)
        return stamp_after(conn)
    finally:
        conn.close()


def supersede_earlier_versions(conn: duckdb.DuckDBPyConnection, landed: LandedFile) -> list[str]:
    """A file re-delivered at the same path with different bytes replaces its earlier version.

    The earlier batch's raw and quarantine rows are deleted and its manifest row is marked
    ``superseded`` (kept for lineage), so a corrected file can also remove or fix rows, not only add
    them. If these exact bytes were loaded before and later superseded, that old manifest row goes.
    """
    batch = batch_id_for(landed)
    conn.execute("delete from raw.load_manifest where batch_id = ? and status = 'superseded'", [batch])
    earlier = [row[0] for row in conn.execute(
        "select batch_id from raw.load_manifest where path = ? and batch_id <> ? and status <> 'superseded'",
        [landed.relative_path, batch],
    ).fetchall()]
    if not earlier:
        return []
    tables = [row[0] for row in conn.execute(
        "select table_name from information_schema.columns "
        "where table_schema = 'raw' and column_name = '_batch_id' order by table_name"
    ).fetchall()]
    conn.execute("begin transaction")
    try:
        for table in tables:
            conn.execute(f'delete from raw."{table}" where _batch_id in (select unnest(?::varchar[]))', [earlier])
        conn.execute("delete from quarantine.rows where batch_id in (select unnest(?::varchar[]))", [earlier])
        conn.execute(
            "update raw.load_manifest set status = 'superseded', "
            "reason = 're-delivered with different content; replaced by batch ' || ? "
            "where batch_id in (select unnest(?::varchar[]))",
            [batch, earlier],
        )
        conn.execute("commit")
    except BaseException:
        conn.execute("rollback")
        raise
    log.warning("%s was re-delivered with different content: replaced batch(es) %s", landed.relative_path, earlier)
    return earlier


def load_days(settings: Settings, work: Path, plan: RunPlan, loaded_at: datetime) -> list[DayLoad]:
    """Load every planned file into the working copy, drop day by drop day in order.

    Within a day, first, on one connection, each file is looked up in the working copy's manifest (a
    file an earlier attempt of this step loaded is not loaded again: the step is safe to retry) and
    an earlier version of a re-delivered file is superseded. Then the day's files load
    ``settings.load_workers`` at a time, largest first, each on its own connection and in its own
    transaction. They only append (raw, quarantine, manifest), so the order they finish in changes
    nothing: staging orders versions by landing date, file and row, never by load order. DuckDB
    still checkpoints as it goes, so the write-ahead log stays small.
    """
    conn = open_work(settings, work)
    try:
        record_not_loaded(conn, plan, loaded_at)
        reports = [_load_day(settings, conn, plan, day, loaded_at) for day in plan.days]
        _record_profile(settings, conn, plan, loaded_at)
        conn.execute("checkpoint")
    finally:
        conn.close()
    return reports


def record_not_loaded(conn: duckdb.DuckDBPyConnection, plan: RunPlan, recorded_at: datetime) -> None:
    """This run's refused entries into ``raw.files_not_loaded`` (replacing those of an earlier attempt of
    the same run: the load step may be retried). Paths, reasons and sizes only, never content."""
    conn.execute("begin transaction")
    try:
        conn.execute("delete from raw.files_not_loaded where run_id = ?", [plan.run_id])
        if plan.refused:
            conn.executemany(
                "insert into raw.files_not_loaded values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [[plan.run_id, entry.relative_path, entry.source, entry.landing_date, entry.reason, entry.detail,
                  entry.size_bytes, entry.file_stat or None, recorded_at] for entry in plan.refused],
            )
        conn.execute("commit")
    except BaseException:
        conn.execute("rollback")
        raise
    for entry in plan.refused:
        log.warning("not loaded: %s (%s): %s", entry.relative_path, entry.reason, entry.detail)


def _record_profile(settings: Settings, conn: duckdb.DuckDBPyConnection, plan: RunPlan, loaded_at: datetime) -> None:
    """The night's `journey profile` figures into ops.landing_profile. A report, not data: a file the
    profile cannot read was already refused (or loaded) by the loader, so a failure here only warns."""
    try:
        record_night(conn, plan.run_id, [landed.path for landed in plan.files], settings, now=loaded_at)
    except Exception as error:  # noqa: BLE001 - the profile never costs the night its data
        log.warning("landing profile not recorded: %s", error)


def _load_day(
    settings: Settings, conn: duckdb.DuckDBPyConnection, plan: RunPlan, day: date, loaded_at: datetime
) -> DayLoad:
    files = plan.files_for(day)
    done: dict[str, FileLoad] = {}
    pending: list[LandedFile] = []
    for landed in files:
        if already_loaded(conn, landed):
            done[landed.relative_path] = _recorded_load(conn, landed)
        else:
            supersede_earlier_versions(conn, landed)
            pending.append(landed)
    done.update(_load_files(settings, conn, pending, plan.run_id, loaded_at))
    loads = [done[landed.relative_path] for landed in files]
    report = DayLoad(
        day=day,
        files=len(loads),
        rows_read=sum(item.rows_read for item in loads),
        rows_loaded=sum(item.rows_loaded for item in loads),
        rows_quarantined=sum(item.rows_quarantined for item in loads),
        rejected_files=tuple(f"{item.relative_path}: {item.reason}" for item in loads if item.status == "rejected"),
        batch_ids=tuple(item.batch_id for item in loads),
        deferred_files=tuple(f"{item.relative_path}: {item.reason}" for item in loads if item.status == "deferred"),
    )
    log.info(
        "loaded day %s: %d files, %d rows read, %d loaded, %d quarantined",
        day, report.files, report.rows_read, report.rows_loaded, report.rows_quarantined,
    )
    for refused in report.rejected_files:
        log.warning("day %s: file refused, the others loaded: %s", day, refused)
    for deferred in report.deferred_files:
        log.warning("day %s: file deferred to the next run: %s", day, deferred)
    return report


def read_limits(settings: Settings) -> ReadLimits:
    """The loader's per-line limits from the settings."""
    return ReadLimits(max_line_bytes=settings.max_line_bytes, max_json_depth=settings.max_json_depth,
                      source_encodings=dict(settings.source_encodings))


def _load_files(
    settings: Settings, conn: duckdb.DuckDBPyConnection, files: list[LandedFile], run_id: str, loaded_at: datetime
) -> dict[str, FileLoad]:
    """Load ``files`` on ``settings.load_workers`` connections (DuckDB cursors: one database, their own
    temp tables and macros), each worker taking the largest file left, so they finish together. After
    an error no worker starts another file; the error is raised once the running files are done."""
    workers = min(settings.load_workers, len(files))
    limits = read_limits(settings)
    if workers <= 1:
        return {landed.relative_path: load_file(conn, landed, run_id=run_id, loaded_at=loaded_at, limits=limits)
                for landed in files}
    queue = deque(sorted(files, key=lambda landed: landed.size_bytes, reverse=True))
    lock = threading.Lock()
    failed = threading.Event()

    def worker(cursor: duckdb.DuckDBPyConnection) -> list[FileLoad]:
        loads = []
        try:
            while not failed.is_set():
                with lock:
                    if not queue:
                        break
                    landed = queue.popleft()
                loads.append(load_file(cursor, landed, run_id=run_id, loaded_at=loaded_at, limits=limits))
        except BaseException:
            failed.set()
            raise
        return loads

    cursors = [conn.cursor() for _ in range(workers)]
    try:
        for cursor in cursors:
            install_macros(cursor, settings.pseudonym_key())
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="journey-load") as pool:
            results = [future.result() for future in [pool.submit(worker, cursor) for cursor in cursors]]
    finally:
        for cursor in cursors:
            cursor.close()
    return {load.relative_path: load for loads in results for load in loads}


def _recorded_load(conn: duckdb.DuckDBPyConnection, landed: LandedFile) -> FileLoad:
    """The manifest row of a file an earlier attempt of this step already loaded, as a FileLoad."""
    row = conn.execute(
        """select batch_id, path, source, encoding, rows_read, rows_loaded, rows_quarantined, rows_skipped_types,
                  status, reason, skipped_kinds from raw.load_manifest where batch_id = ?""",
        [batch_id_for(landed)],
    ).fetchone()
    assert row is not None
    return FileLoad(*row)


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
    #: of checks_failed, the warn-severity checks (shown apart in the summary; the run record keeps
    #: checks_failed, and ops.dq_results every check's severity)
    checks_warned: int = 0
    #: every landed entry this run did not load: path, source, day, reason, detail (runs.jsonl; the
    #: run record's columns are unchanged)
    files_not_loaded: list[dict[str, str | None]] = field(default_factory=list)
    stage_seconds: dict[str, float] = field(default_factory=dict)
    finished_at: datetime | None = None
    reason: str | None = None
    #: this run's load stamp (``run_stamp``): every quarantine row it writes is stamped at or after it
    loaded_at: datetime | None = None

    @classmethod
    def begin(cls, run_date: date | None, end: date | None = None, run_id: str | None = None) -> RunSummary:
        """A run that has not planned yet (its date is provisional until ``apply_plan``); ``run_id`` is
        the orchestrator's name for it when it gave one (the Prefect flow-run name)."""
        now = datetime.now(UTC)
        return cls(run_id=run_id or new_run_id(now), run_date=run_date or end or now.date(), first_day=None,
                   last_day=None, started_at=now.replace(tzinfo=None))

    def apply_plan(self, plan: RunPlan) -> None:
        self.run_date = plan.run_date
        self.files_not_loaded = [
            {"path": entry.relative_path, "source": entry.source,
             "landing_date": entry.landing_date.isoformat() if entry.landing_date else None,
             "reason": entry.reason, "detail": entry.detail}
            for entry in plan.refused
        ]
        self.first_day = plan.days[0] if plan.days else None
        self.last_day = plan.days[-1] if plan.days else None

    def finish(self, status: str, reason: str | None = None) -> None:
        self.status, self.reason = status, reason
        if status in PUBLISHED_STATUSES:
            self.stage = None
        self.finished_at = datetime.now(UTC).replace(tzinfo=None)

    def row(self) -> list[object]:
        """Values in the order of the run record's columns (warehouse.schema.RUNS_COLUMNS)."""
        return [
            self.run_id, self.run_date, self.first_day, self.last_day, self.started_at, self.finished_at,
            self.status, self.stage, self.files, self.rows_read, self.rows_loaded, self.rows_quarantined,
            self.checks_passed, self.checks_failed, json.dumps(self.stage_seconds), self.reason,
        ]

    def add_loads(self, loads: list[DayLoad]) -> None:
        self.files += sum(item.files for item in loads)
        self.rows_read += sum(item.rows_read for item in loads)
        self.rows_loaded += sum(item.rows_loaded for item in loads)
        self.rows_quarantined += sum(item.rows_quarantined for item in loads)

    def as_json(self) -> str:
        return json.dumps(asdict(self), default=str, sort_keys=True)


def mark_stage(settings: Settings, summary: RunSummary, stage: str) -> None:
    """Note the stage a run is entering in the run log (so a killed run's last stage is known).

    Best effort: a run log that cannot be written costs a warning, not the run.
    """
    summary.stage = stage
    try:
        runlog.write_run(settings, summary.row())
    except (OSError, duckdb.Error) as error:
        log.warning("could not note stage %s of run %s in the run log: %s", stage, summary.run_id, error)


def record_run(settings: Settings, summary: RunSummary) -> None:
    """Record the run's outcome: one line in logs/runs.jsonl, its row in warehouse/ops.duckdb, and its
    evidence and summary in logs/runs/<run_id>/ (journey.ops.evidence)."""
    settings.log_dir.mkdir(parents=True, exist_ok=True)
    with (settings.log_dir / "runs.jsonl").open("a", encoding="utf-8") as handle:
        handle.write(summary.as_json() + "\n")
    runlog.write_run(settings, summary.row())
    try:
        keep_evidence(settings, summary)
    except (OSError, duckdb.Error, ValueError) as error:
        log.warning("could not keep the evidence of run %s in %s: %s", summary.run_id,
                    settings.log_dir / "runs", error)
    log.info("run %s %s", summary.run_id, summary.status, extra={"stage": summary.stage, "reason": summary.reason})


def keep_evidence(settings: Settings, summary: RunSummary) -> Path:
    """The run's quarantine rows and check results out of its working copy (still there when a failed
    run is recorded; for a published run, the warehouse it became), then its summary.md."""
    from journey.console import run_markdown

    published = summary.status in PUBLISHED_STATUSES
    source = settings.work_path if settings.work_path.is_file() else settings.warehouse_path if published else None
    if summary.loaded_at is not None and source is not None and source.is_file():
        stopped_by = summary.reason if summary.status == "failed" else None  # its errors, as check rows
        kept = evidence.save_evidence(settings, summary.run_id, source, summary.loaded_at, summary.stage, stopped_by)
        log.info("kept the evidence of run %s: %d quarantined row(s), %d check result(s)",
                 summary.run_id, kept.quarantined, kept.checks)
    return evidence.write_summary(settings, summary.run_id, run_markdown(summary, settings))


def record_in_warehouse(settings: Settings, summary: RunSummary, work: Path) -> None:
    """Write ops.runs of the working copy about to be published: the run log so far plus this run."""
    conn = connect_writer(work, settings)
    try:
        ensure_schema(conn)
        log_path = runlog.ops_db_path(settings)
        if log_path.exists():
            quoted = log_path.as_posix().replace("'", "''")
            conn.execute(f"attach '{quoted}' as run_log (read_only)")
            conn.execute("insert or replace into ops.runs select * from run_log.runs")
            conn.execute("detach run_log")
        placeholders = ", ".join("?" for _ in summary.row())
        conn.execute(f"insert or replace into ops.runs values ({placeholders})", summary.row())
        conn.execute("checkpoint")
    finally:
        conn.close()


#: How a run ends. ``degraded``: published, but run health found the night untrustworthy in part
#: (journey.quality.health); alerted, and the CLI exits with DEGRADED_EXIT_CODE.
RUN_STATUSES = ("running", "succeeded", "degraded", "skipped", "failed", "interrupted")
PUBLISHED_STATUSES = ("succeeded", "degraded")
DEGRADED_EXIT_CODE = 4


def publish_run(
    settings: Settings, summary: RunSummary, work: Path, status: str = "succeeded", reason: str | None = None
) -> Path:
    """Record the run as ``status`` (succeeded or degraded) inside the working copy (ops.runs), then
    swap the copy in.

    ``summary`` is not changed here (the flow closes it after publish succeeds).
    """
    if status not in PUBLISHED_STATUSES:
        raise ValueError(f"a published run is succeeded or degraded, not {status}")
    closed = replace(summary, status=status, stage=None, reason=reason, stage_seconds=dict(summary.stage_seconds),
                     finished_at=datetime.now(UTC).replace(tzinfo=None))
    record_in_warehouse(settings, closed, work)
    return publish(settings)
