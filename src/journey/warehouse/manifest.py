"""Read the published warehouse's load manifest: what each landed file was when it was loaded.

One reader for the steps that decide from it without writing (planning a run, landing retention),
so a warehouse published before a manifest column existed is handled the same way everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb

from journey.warehouse.connection import connect_reader


@dataclass(frozen=True)
class ManifestEntry:
    """One batch in ``raw.load_manifest``. ``file_stat`` is ``''`` where none was recorded (a warehouse
    published before the column, or a file modified while it was fingerprinted)."""

    path: str
    batch_id: str
    sha256: str
    status: str
    loaded_on: date
    file_stat: str

    @property
    def in_effect(self) -> bool:
        """Loaded and not replaced by a later delivery of the same path (a ``deferred`` file changed
        while it was read: nothing of it is loaded, the next run reads it again)."""
        return self.status not in ("superseded", "deferred")


_COLUMNS = "path, batch_id, sha256, status, cast(loaded_at as date)"


def published_manifest(warehouse: Path) -> list[ManifestEntry]:
    """Every batch of the published warehouse, oldest load first; empty when nothing is published yet."""
    if not warehouse.exists():
        return []
    conn = connect_reader(warehouse)
    try:
        rows = conn.execute(
            f"select {_COLUMNS}, coalesce(file_stat, '') from raw.load_manifest order by loaded_at"
        ).fetchall()
    except duckdb.BinderException:  # published before file_stat: every file will be hashed
        rows = [(*row, "") for row in conn.execute(
            f"select {_COLUMNS} from raw.load_manifest order by loaded_at").fetchall()]
    except duckdb.CatalogException:  # no manifest table (not a journey warehouse yet)
        rows = []
    finally:
        conn.close()
    return [ManifestEntry(*row) for row in rows]


def recorded_fingerprints(entries: list[ManifestEntry]) -> dict[str, tuple[str, str]]:
    """Path → (file_stat, sha256) of the files in effect whose stat was recorded: what
    ``journey.ingest.landing.fingerprint`` may trust without reading the file."""
    return {entry.path: (entry.file_stat, entry.sha256) for entry in entries if entry.in_effect and entry.file_stat}


def recorded_refusals(warehouse: Path) -> set[tuple[str, str, str]]:
    """(path, reason, file_stat) of every entry a published run recorded in ``raw.files_not_loaded``:
    an entry refused again, unchanged and for the same reason, is nothing new to run for."""
    if not warehouse.exists():
        return set()
    conn = connect_reader(warehouse)
    try:
        rows = conn.execute(
            "select distinct path, reason, coalesce(file_stat, '') from raw.files_not_loaded").fetchall()
    except duckdb.CatalogException:  # published before the table existed
        rows = []
    finally:
        conn.close()
    return {(str(path), str(reason), str(stat)) for path, reason, stat in rows}
