"""Freshness and volume of this run's drops, as a small frame the ``landing`` GX suite checks.

One row per (raw table, drop day) of the run:

* ``files``: manifest rows of that table's source on that day (0 = the drop is missing; NULL, not
  checked, when the source delivered nothing in the trailing window either);
* ``rows``: rows loaded into the raw table from that day;
* ``band_low`` / ``band_high``: the median rows per delivered day over the trailing
  ``volume_band_days`` days, divided / multiplied by ``volume_band_factor`` — NULL until at least
  ``volume_band_min_days`` earlier drops exist and while that median is below
  ``volume_band_min_rows`` (a new site, or an entity too sparse for a band, stays quiet).

Only the run's days and the trailing window are scanned (raw tables are appended in drop-day
order, so DuckDB's zone maps on ``_landing_date`` skip the rest): cost follows the increment.
"""

from __future__ import annotations

from datetime import date, timedelta

import duckdb
import pandas as pd

from journey.config import Settings
from journey.ingest.entities import ENTITIES

_COLUMNS = ["raw_table", "source", "day", "files", "rows", "band_low", "band_high", "history_days"]


def run_days(conn: duckdb.DuckDBPyConnection) -> list[date]:
    """The drop days of this run's batches (``_gate_batches`` must be registered)."""
    rows = conn.execute(
        """select distinct landing_date from raw.load_manifest
           where batch_id in (select batch_id from _gate_batches) order by 1"""
    ).fetchall()
    return [row[0] for row in rows]


def landing_health(conn: duckdb.DuckDBPyConnection, settings: Settings, days: list[date]) -> pd.DataFrame:
    """The freshness/volume frame for ``days`` (see module docstring)."""
    if not days:
        return pd.DataFrame(columns=_COLUMNS)
    thresholds = settings.thresholds
    window_start = min(days) - timedelta(days=thresholds.volume_band_days)
    tables = conn.execute("select table_name from information_schema.tables where table_schema = 'raw'")
    existing = {row[0] for row in tables.fetchall()}
    records: list[dict[str, object]] = []
    for entity in ENTITIES.values():
        # Days the entity's source delivered anything, in the trailing window and the run.
        files_by_day: dict[date, int] = dict(
            conn.execute(
                """select landing_date, count(*) from raw.load_manifest
                   where source = ? and landing_date between ? and ? group by 1""",
                [entity.source, window_start, max(days)],
            ).fetchall()
        )
        counts: dict[date, int] = {}
        if entity.table in existing:
            # Table names come from the entity registry (code), never from input.
            counts = dict(
                conn.execute(
                    f"""select _landing_date, count(*) from raw."{entity.table}"
                        where _landing_date between ? and ? group by 1""",
                    [window_start, max(days)],
                ).fetchall()
            )
        for day in days:
            earliest = day - timedelta(days=thresholds.volume_band_days)
            history = [counts.get(d, 0) for d in files_by_day if earliest <= d < day]
            median = float(pd.Series(history).median()) if history else 0.0
            checked = len(history) >= thresholds.volume_band_min_days and median >= thresholds.volume_band_min_rows
            records.append(
                {
                    "raw_table": entity.table,
                    "source": entity.source,
                    "day": day,
                    # A source silent for the whole window (not used at this site) is not expected.
                    "files": int(files_by_day.get(day, 0)) if files_by_day.get(day) or history else None,
                    "rows": int(counts.get(day, 0)),
                    "band_low": median / thresholds.volume_band_factor if checked else None,
                    "band_high": median * thresholds.volume_band_factor if checked else None,
                    "history_days": len(history),
                }
            )
    return pd.DataFrame.from_records(records, columns=_COLUMNS)
