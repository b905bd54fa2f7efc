"""Warehouse stamps that never go backwards.

Incremental staging models find what changed since their last build by comparing ``_loaded_at``
(a run's load stamp) and ``quarantined_at`` (a gate's refusal stamp) with the latest stamp they
hold (macros/staging.sql, "Incremental staging"). A clock set back between runs (NTP step, VM
restore) must not stamp a run's rows at or below an earlier run's, or those rows would never reach
staging; so every stamp is at least 1 µs after the latest one the warehouse already holds.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import duckdb

_LATEST_STAMP = """
    select greatest(
        (select max(loaded_at) from raw.load_manifest),
        (select max(quarantined_at) from quarantine.rows),
        (select max(replayed_at) from quarantine.rows)
    )
"""


def stamp_after(conn: duckdb.DuckDBPyConnection, now: datetime | None = None) -> datetime:
    """``now`` (default: the clock, UTC, naive), or 1 µs after the warehouse's latest load,
    quarantine or replay stamp when that is not earlier."""
    now = now or datetime.now(UTC).replace(tzinfo=None)
    row = conn.execute(_LATEST_STAMP).fetchone()
    latest: datetime | None = row[0] if row else None
    return now if latest is None or now > latest else latest + timedelta(microseconds=1)
