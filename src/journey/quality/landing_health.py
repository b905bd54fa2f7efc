"""Freshness and volume of this run's drops, as a small frame the ``landing`` GX suite checks.

One row per (raw table, drop day) of the run:

* ``files``: manifest rows of that table's source on that day (0 = the drop is missing), files
  outside the source contract (``ignored``; refused entries are not in the manifest) not counted. NULL, not
  checked, when the source delivered nothing on the same weekday in the trailing window (a source
  that never sends on Sundays is not missing on a Sunday; a source unused at the site never is);
* ``entity_files``: files that day holding rows of this raw table (the warning's message counts
  these, not the files of the source's other entities);
* ``rows``: rows loaded into the raw table from that day;
* ``band_low`` / ``band_high``: the median rows of the **same weekday** over the trailing
  ``volume_band_days`` days (delivered days only), divided / multiplied by ``volume_band_factor``,
  so a quiet Sunday is measured against Sundays. NULL until at least ``volume_band_min_days``
  earlier drops and ``volume_band_min_weeks`` earlier same-weekday drops exist, and while that median
  is below ``volume_band_min_rows`` (a new site, or an entity too sparse for a band, stays quiet).

Only the run's days and the trailing window are scanned (raw tables are appended in drop-day
order, so DuckDB's zone maps on ``_landing_date`` skip the rest): cost follows the increment.
"""

from __future__ import annotations

from datetime import date, timedelta

import duckdb
import pandas as pd

from journey.config import Settings
from journey.ingest.entities import ENTITIES

_COLUMNS = ["raw_table", "source", "day", "files", "entity_files", "rows", "band_low", "band_high",
            "history_days", "weekday_history_days"]


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
                   where source = ? and landing_date between ? and ? and status <> 'ignored' group by 1""",
                [entity.source, window_start, max(days)],
            ).fetchall()
        )
        counts: dict[date, tuple[int, int]] = {}
        if entity.table in existing:
            # Table names come from the entity registry (code), never from input.
            counts = {
                day: (int(rows), int(files))
                for day, rows, files in conn.execute(
                    f"""select _landing_date, count(*), count(distinct _batch_id) from raw."{entity.table}"
                        where _landing_date between ? and ? group by 1""",
                    [window_start, max(days)],
                ).fetchall()
            }
        for day in days:
            records.append(_day_record(settings, entity.table, entity.source, day, files_by_day, counts))
    return pd.DataFrame.from_records(records, columns=_COLUMNS)


def _day_record(
    settings: Settings, table: str, source: str, day: date,
    files_by_day: dict[date, int], counts: dict[date, tuple[int, int]],
) -> dict[str, object]:
    """One (raw table, day) row: the band from the delivered same-weekday days before ``day``."""
    thresholds = settings.thresholds
    earliest = day - timedelta(days=thresholds.volume_band_days)
    delivered = [d for d in files_by_day if earliest <= d < day]
    same_weekday = [d for d in delivered if d.weekday() == day.weekday()]
    history = [counts.get(d, (0, 0))[0] for d in same_weekday]
    median = float(pd.Series(history).median()) if history else 0.0
    checked = (
        len(delivered) >= thresholds.volume_band_min_days
        and len(same_weekday) >= thresholds.volume_band_min_weeks
        and median >= thresholds.volume_band_min_rows
    )
    rows, entity_files = counts.get(day, (0, 0))
    return {
        "raw_table": table,
        "source": source,
        "day": day,
        # Expected only when the source delivered on this weekday before (or did deliver today).
        "files": int(files_by_day.get(day, 0)) if files_by_day.get(day) or same_weekday else None,
        "entity_files": entity_files,
        "rows": rows,
        "band_low": median / thresholds.volume_band_factor if checked else None,
        "band_high": median * thresholds.volume_band_factor if checked else None,
        "history_days": len(delivered),
        "weekday_history_days": len(same_weekday),
    }
