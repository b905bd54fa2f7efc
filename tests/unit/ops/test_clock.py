"""Stamps never go backwards, whatever the clock says (incremental staging compares them)."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import duckdb

from journey.ops.clock import stamp_after
from journey.warehouse.schema import ensure_schema

NOW = datetime(2026, 3, 1, 2, 0, 0)


def _warehouse(tmp_path: Path) -> duckdb.DuckDBPyConnection:
    conn = duckdb.connect(str(tmp_path / "w.duckdb"))
    ensure_schema(conn)
    return conn


def _manifest_row(conn: duckdb.DuckDBPyConnection, loaded_at: datetime) -> None:
    conn.execute(
        "insert into raw.load_manifest values ('b1', 'r1', 'ehr', date '2026-03-01', 'ehr/x.ndjson', 1, 's', "
        "'utf-8', 1, 1, 0, 0, 'loaded', null, ?, null, null)",
        [loaded_at],
    )


def test_an_empty_warehouse_takes_the_clock(tmp_path: Path) -> None:
    assert stamp_after(_warehouse(tmp_path), NOW) == NOW


def test_the_clock_wins_when_it_is_later(tmp_path: Path) -> None:
    conn = _warehouse(tmp_path)
    _manifest_row(conn, NOW - timedelta(days=1))
    assert stamp_after(conn, NOW) == NOW


def test_a_clock_set_back_stamps_just_after_the_latest_load(tmp_path: Path) -> None:
    conn = _warehouse(tmp_path)
    _manifest_row(conn, NOW + timedelta(hours=3))
    assert stamp_after(conn, NOW) == NOW + timedelta(hours=3, microseconds=1)
    equal = NOW + timedelta(hours=3)  # a clock reading exactly the latest stamp moves past it too
    assert stamp_after(conn, equal) == equal + timedelta(microseconds=1)


def test_a_later_quarantine_stamp_counts_too(tmp_path: Path) -> None:
    conn = _warehouse(tmp_path)
    _manifest_row(conn, NOW - timedelta(hours=1))
    conn.execute(
        "insert into quarantine.rows values ('b1', 'ehr', 'Slot', 'ehr/x.ndjson', 1, date '2026-03-01', "
        "'rule', 'error', null, null, null, ?, null)",
        [NOW + timedelta(minutes=5)],
    )
    assert stamp_after(conn, NOW) == NOW + timedelta(minutes=5, microseconds=1)
