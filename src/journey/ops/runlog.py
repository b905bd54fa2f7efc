"""The run log: every run and its outcome in ``warehouse/ops.duckdb`` (table ``runs``).

Why a separate small file rather than ``ops.runs`` in the published warehouse: a failed or killed run
must never write the published warehouse (that is the whole promise of atomic publish), yet its
record must survive. ops.duckdb is rewritten the same way the warehouse is published (copy, write,
atomic rename), so analysts may hold it open read-only too, and a kill mid-write leaves the previous
log intact. Only the holder of the run lock writes it. ``ops.runs`` inside the published warehouse is
refreshed from this log at every publish, so it holds every run up to the one that built it.

    duckdb -readonly data/warehouse/ops.duckdb "select * from runs order by started_at desc"
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from journey.config import Settings
from journey.warehouse.publish import copy_for_writing, replace_atomically
from journey.warehouse.schema import RUNS_COLUMNS

log = logging.getLogger(__name__)

RUNS_DDL = f"create table if not exists runs ({RUNS_COLUMNS})"
INTERRUPTED_REASON = "the run ended without recording an outcome (killed, or the machine stopped)"


def ops_db_path(settings: Settings) -> Path:
    return settings.warehouse_dir / "ops.duckdb"


def _rewrite(settings: Settings, change: Callable[[duckdb.DuckDBPyConnection], object]) -> None:
    path = ops_db_path(settings)
    scratch = path.with_name(path.name + ".tmp")
    copy_for_writing(path, scratch)
    conn = duckdb.connect(str(scratch))
    try:
        conn.execute(RUNS_DDL)
        change(conn)
        conn.execute("checkpoint")
    finally:
        conn.close()
    replace_atomically(scratch, path)


def write_run(settings: Settings, row: Sequence[object]) -> None:
    """Insert or replace one run (values in RUNS_COLUMNS order)."""
    placeholders = ", ".join("?" for _ in row)
    _rewrite(settings, lambda conn: conn.execute(f"insert or replace into runs values ({placeholders})", list(row)))


def read_runs(settings: Settings) -> list[dict[str, object]]:
    """Every recorded run, oldest first (empty before the first run)."""
    path = ops_db_path(settings)
    if not path.exists():
        return []
    conn = duckdb.connect(str(path), read_only=True)
    try:
        cursor = conn.execute("select * from runs order by started_at, run_id")
        names = [column[0] for column in cursor.description or []]
        return [dict(zip(names, values, strict=True)) for values in cursor.fetchall()]
    finally:
        conn.close()


def mark_interrupted(settings: Settings) -> list[dict[str, object]]:
    """Runs still 'running' in the log can only be dead ones (the caller holds the run lock): mark them."""
    stale = [run for run in read_runs(settings) if run["status"] == "running"]
    if stale:
        ids = [str(run["run_id"]) for run in stale]
        _rewrite(
            settings,
            lambda conn: conn.execute(
                "update runs set status = 'interrupted', reason = ?, finished_at = coalesce(finished_at, ?) "
                "where run_id in (select unnest(?::varchar[]))",
                [INTERRUPTED_REASON, datetime.now(UTC).replace(tzinfo=None), ids],
            ),
        )
        for run in stale:
            log.warning("run %s was interrupted during stage %s", run["run_id"], run["stage"])
    return stale
