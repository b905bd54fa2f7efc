"""DuckDB connections: one writer on the working copy, read-only readers on the published file."""

from __future__ import annotations

from pathlib import Path

import duckdb

from journey.config import Settings


def connect_writer(path: Path, settings: Settings) -> duckdb.DuckDBPyConnection:
    """Open the working copy for writing with the configured resource limits."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = duckdb.connect(str(path), config={"threads": settings.duckdb_threads})
    conn.execute("set memory_limit = ?", [settings.duckdb_memory_limit])
    spill = settings.warehouse_dir / ".spill"
    spill.mkdir(parents=True, exist_ok=True)
    conn.execute("set temp_directory = ?", [str(spill)])
    return conn


def connect_reader(path: Path) -> duckdb.DuckDBPyConnection:
    """Open a published warehouse read-only (what analysts and reports use)."""
    return duckdb.connect(str(path), read_only=True)
