"""CSV/JSONL entities exported as Parquet: typed columns become text, the same rules apply, and a
truncated or incomplete file is rejected with its reason (never a crash)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from journey.ingest.landing import discover
from journey.ingest.loader import FileLoad, load_file

DAY = date(2026, 1, 5)


def _reviews_table(rows: int) -> pa.Table:
    return pa.table({
        "review_id": [f"r{i}" for i in range(rows)],
        "platform": ["dianping"] * rows,
        "rating": pa.array([5] * (rows - 1) + [None], pa.int64()),
        "text": ["call 13812345678"] * rows,
        "posted_at": pa.array([datetime(2026, 1, 5, 2, 0, tzinfo=UTC)] * rows, pa.timestamp("us", tz="UTC")),
        "sentiment": [0.5] * rows,
    })


def _load(conn: duckdb.DuckDBPyConnection, landing: Path) -> FileLoad:
    (landed,) = discover(landing, [DAY])
    return load_file(conn, landed, run_id="r1", loaded_at=datetime(2026, 1, 6))


def test_parquet_rows_load_as_text_with_the_same_rules(conn, tmp_path: Path) -> None:
    folder = tmp_path / "landing" / "relations" / DAY.isoformat()
    folder.mkdir(parents=True)
    # Small row groups: the reader goes chunk by chunk and row numbers continue across chunks.
    pq.write_table(_reviews_table(5), folder / "reviews.parquet", row_group_size=2)
    result = _load(conn, tmp_path / "landing")
    assert (result.status, result.rows_read, result.rows_loaded, result.rows_quarantined) == ("partial", 5, 4, 1)
    assert result.reason == "ignored extra column(s): sentiment"
    rows = conn.execute("select review_id, rating, text, posted_at, _row_number from raw.relations_reviews "
                        "order by _row_number").fetchall()
    assert rows[0] == ("r0", "5", "call [phone]", "2026-01-05 02:00:00.000000Z", 1)
    assert [r[4] for r in rows] == [1, 2, 3, 4]
    assert conn.execute("select _row_number, rule from quarantine.rows").fetchall() == [(5, "required:rating")]


def test_truncated_or_incomplete_parquet_is_rejected_with_the_reason(conn, tmp_path: Path) -> None:
    folder = tmp_path / "landing" / "relations" / DAY.isoformat()
    folder.mkdir(parents=True)
    pq.write_table(_reviews_table(50), folder / "reviews.parquet")
    data = (folder / "reviews.parquet").read_bytes()
    (folder / "reviews.parquet").write_bytes(data[: len(data) // 2])
    result = _load(conn, tmp_path / "landing")
    assert result.status == "rejected" and result.reason.startswith("not a readable Parquet file")
    assert conn.execute("select count(*) from raw.relations_reviews").fetchone() == (0,)
    quarantined = conn.execute("select _row_number, rule from quarantine.rows").fetchall()
    assert quarantined == [(0, "unreadable_file")]


def test_parquet_without_a_required_column_is_rejected(conn, tmp_path: Path) -> None:
    folder = tmp_path / "landing" / "relations" / DAY.isoformat()
    folder.mkdir(parents=True)
    pq.write_table(_reviews_table(3).drop_columns(["posted_at"]), folder / "reviews.parquet")
    result = _load(conn, tmp_path / "landing")
    assert (result.status, result.reason) == ("rejected", "schema lacks required column(s) posted_at")
