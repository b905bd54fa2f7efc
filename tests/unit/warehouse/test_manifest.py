"""The published manifest as planning and retention read it: oldest load first, ``file_stat`` '' where
none was recorded, including a warehouse published before the column existed; and the recorded
fingerprints they may trust."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb

from journey.warehouse.manifest import ManifestEntry, published_manifest, recorded_fingerprints


def _warehouse(path: Path, *, with_stat: bool) -> Path:
    stat = ", file_stat varchar" if with_stat else ""
    conn = duckdb.connect(str(path))
    conn.execute("create schema raw")
    conn.execute(f"""create table raw.load_manifest (path varchar, batch_id varchar, sha256 varchar,
                     status varchar, loaded_at timestamp{stat})""")
    rows = [("ehr/2026-01-06/Patient.ndjson", "b2", "s2", "loaded", "2026-01-07 02:00:00"),
            ("ehr/2026-01-05/Patient.ndjson", "b1", "s1", "superseded", "2026-01-06 02:00:00")]
    for row, stat_value in zip(rows, ["1:10:99", "2:20:88"], strict=True):
        values = (*row, stat_value) if with_stat else row
        conn.execute(f"insert into raw.load_manifest values ({', '.join('?' * len(values))})", list(values))
    conn.close()
    return path


def test_entries_come_oldest_load_first_with_their_stat(tmp_path: Path) -> None:
    entries = published_manifest(_warehouse(tmp_path / "w.duckdb", with_stat=True))
    assert entries == [
        ManifestEntry("ehr/2026-01-05/Patient.ndjson", "b1", "s1", "superseded", date(2026, 1, 6), "2:20:88"),
        ManifestEntry("ehr/2026-01-06/Patient.ndjson", "b2", "s2", "loaded", date(2026, 1, 7), "1:10:99"),
    ]
    assert [entry.in_effect for entry in entries] == [False, True]
    # what discovery and retention may trust unread: files in effect with a recorded stat
    assert recorded_fingerprints(entries) == {"ehr/2026-01-06/Patient.ndjson": ("1:10:99", "s2")}


def test_a_warehouse_published_before_file_stat_reads_with_no_stat(tmp_path: Path) -> None:
    entries = published_manifest(_warehouse(tmp_path / "old.duckdb", with_stat=False))
    assert [(entry.batch_id, entry.file_stat) for entry in entries] == [("b1", ""), ("b2", "")]


def test_nothing_published_reads_as_empty(tmp_path: Path) -> None:
    assert published_manifest(tmp_path / "missing.duckdb") == []
    duckdb.connect(str(tmp_path / "empty.duckdb")).close()
    assert published_manifest(tmp_path / "empty.duckdb") == []
