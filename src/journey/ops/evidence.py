"""A run's own evidence, kept after its working copy is gone: ``logs/runs/<run_id>/``

    quarantine.parquet   the rows this run refused: file, row, stage rule, detail (never the content)
    checks.parquet       this run's check results (ops.dq_results rows), plus the errors that stopped it
    summary.md           the run's summary (the same text as its Prefect markdown artifact)

Why files under the logs dir, written by the run-recording code: a failed run must never write the
published warehouse (atomic publish), raw and quarantine.rows belong to ingest and the gates, and
warehouse/ops.duckdb is copied whole at every stage mark, so it stays small. One directory per run,
written once by that run while it holds the run lock; the published warehouse remains the place for
what was published (``journey quarantine list``), this one for any run (``--run <id>``).
"""

from __future__ import annotations

import logging
import re
import shutil
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb

from journey.config import Settings

log = logging.getLogger(__name__)

#: quarantine.rows without original_values and content_sha256: evidence names rows, never holds them.
QUARANTINE_COLUMNS = ("batch_id", "source", "entity", "_source_file", "_row_number", "_landing_date", "rule",
                      "severity", "detail", "quarantined_at")
CHECK_COLUMNS = ("stage", "suite", "expectation", "rule", "severity", "level", "success", "observed_value",
                 "unexpected_count", "detail")
#: A stopping error's line: ``<where>: <what> [rule: <rule>]`` (journey.quality.gate, journey.quality.health).
_STOPPING_LINE = re.compile(r"^\s*(?P<text>.+?)\s*\[rule: (?P<rule>[\w.]+)\]\s*$")


@dataclass(frozen=True)
class RunEvidence:
    quarantined: int
    checks: int


def run_dir(settings: Settings, run_id: str) -> Path:
    if not re.fullmatch(r"[\w.-]+", run_id):
        raise ValueError(f"not a run id: {run_id!r}")
    return settings.log_dir / "runs" / run_id


def stopping_checks(stage: str | None, reason: str | None) -> list[tuple[object, ...]]:
    """The errors that stopped a run (its reason's ``[rule: …]`` lines) as check rows."""
    found: list[tuple[object, ...]] = []
    for line in (reason or "").splitlines():
        if match := _STOPPING_LINE.match(line):
            text = match["text"].rstrip(":").strip()
            found.append((stage, None, None, match["rule"], "error", "batch", False, None, None, text))
    return found


def save_evidence(
    settings: Settings, run_id: str, warehouse: Path, since: datetime, stage: str | None, reason: str | None
) -> RunEvidence:
    """Copy this run's quarantine rows (stamped at or after ``since``, the run's load stamp: stamps only
    grow, journey.ops.clock) and check results out of ``warehouse`` into the run's directory."""
    target = run_dir(settings, run_id)
    scratch = target.with_name(target.name + ".tmp")
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    conn = duckdb.connect(str(warehouse), read_only=True)
    try:
        conn.execute(
            f"create temp table evidence_rows as select {', '.join(QUARANTINE_COLUMNS)} from quarantine.rows "
            "where quarantined_at >= ?", [since])
        conn.execute(f"create temp table evidence_checks ({', '.join(_check_ddl())})")
        if conn.execute("select count(*) from information_schema.tables "
                        "where table_schema = 'ops' and table_name = 'dq_results'").fetchone() == (1,):
            conn.execute(f"insert into evidence_checks select {', '.join(CHECK_COLUMNS)} from ops.dq_results "
                         "where run_id = ? order by checked_at, stage, suite, rule", [run_id])
        stopping = stopping_checks(stage, reason)
        if stopping:
            conn.executemany(f"insert into evidence_checks values ({', '.join('?' for _ in CHECK_COLUMNS)})",
                             stopping)
        for table, name in (("evidence_rows", "quarantine"), ("evidence_checks", "checks")):
            path = (scratch / f"{name}.parquet").as_posix().replace("'", "''")
            # uncompressed: `journey privacy-scan` reads every file under logs/ as text, these too
            conn.execute(f"copy {table} to '{path}' (format parquet, compression uncompressed)")
        counts = conn.execute("select (select count(*) from evidence_rows), (select count(*) from evidence_checks)"
                              ).fetchone()
    finally:
        conn.close()
    if (target / "summary.md").is_file():
        shutil.copyfile(target / "summary.md", scratch / "summary.md")
    shutil.rmtree(target, ignore_errors=True)
    scratch.replace(target)
    assert counts is not None
    return RunEvidence(quarantined=int(counts[0]), checks=int(counts[1]))


def _check_ddl() -> list[str]:
    types = {"success": "boolean", "unexpected_count": "bigint"}
    return [f"{column} {types.get(column, 'varchar')}" for column in CHECK_COLUMNS]


def write_summary(settings: Settings, run_id: str, markdown: str) -> Path:
    path = run_dir(settings, run_id) / "summary.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name("summary.md.tmp")
    partial.write_text(markdown, encoding="utf-8")
    partial.replace(path)
    return path


def _read(settings: Settings, run_id: str, name: str, sql: str, params: list[object]) -> list[tuple[object, ...]]:
    path = run_dir(settings, run_id) / f"{name}.parquet"
    if not path.is_file():
        return []
    quoted = path.as_posix().replace("'", "''")
    conn = duckdb.connect()
    try:
        return conn.execute(sql.format(file=f"read_parquet('{quoted}')"), params).fetchall()
    finally:
        conn.close()


def has_evidence(settings: Settings, run_id: str) -> bool:
    return (run_dir(settings, run_id) / "quarantine.parquet").is_file()


def quarantined_rows(settings: Settings, run_id: str, limit: int) -> tuple[list[tuple[object, ...]], int]:
    """(file, row, rule, detail) of the run's quarantined rows, file and row order, and how many in all."""
    rows = _read(settings, run_id, "quarantine",
                 "select _source_file, _row_number, rule, detail from {file} order by 1, 2, 3 limit ?", [limit])
    total = _read(settings, run_id, "quarantine", "select count(*) from {file}", [])
    return rows, int(total[0][0]) if total else 0  # type: ignore[call-overload]


def check_counts(settings: Settings, run_id: str) -> tuple[int, int, int] | None:
    """(passed, failed, of which warnings) over the run's check results; None without evidence."""
    found = _read(settings, run_id, "checks",
                  "select count(*) filter (success), count(*) filter (not success), "
                  "count(*) filter (not success and severity = 'warn') from {file}", [])
    return (int(found[0][0]), int(found[0][1]), int(found[0][2])) if found else None  # type: ignore[call-overload]


def failed_checks(settings: Settings, run_id: str) -> list[dict[str, object]]:
    """The run's failed and warned checks: stage, severity, rule, check, unexpected rows, where (file, row)."""
    found = _read(settings, run_id, "checks",
                  "select stage, severity, rule, coalesce(suite || ' ' || expectation, ''), unexpected_count, detail "
                  "from {file} where not success", [])
    names = ("stage", "severity", "rule", "check", "unexpected", "where")
    return [dict(zip(names, row, strict=True)) for row in found]
