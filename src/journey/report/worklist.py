"""`journey worklist --date D`: the CSV export of the service-recovery worklist of day D − 1.

The worklist itself is a mart, ``marts.fct_service_recovery_items`` (models/marts/experience/): one
row per survey response from a detractor (NPS ≤ 6) or with a bottom-box answer (overall rating 0-6,
or an HCAHPS-style item answered "never" / "sometimes"), and one row per complaint, with the
department, waits, a one-line excerpt and the encounter id the patient-relations team looks up in
the EHR. This module only selects one day of it and writes the CSV. It never carries the patient's
identity; excerpts are scrubbed again, in DuckDB, by the loader's own ``journey_scrub`` macro
(journey.ingest.pseudonymise), on top of the scrub at load.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pandas as pd

from journey.config import Settings
from journey.errors import JourneyError
from journey.ingest.pseudonymise import install_scrub_macros
from journey.report import data
from journey.warehouse.connection import connect_reader
from journey.warehouse.publish import require_published_warehouse

MART = "fct_service_recovery_items"
EXCERPT_CHARS = 200  # the mart's cut (fct_service_recovery_items.sql)
COLUMNS: tuple[str, ...] = (
    "worklist_date", "source", "record_id", "encounter_id", "department_code", "department_name",
    "department_name_zh", "reasons", "nps_score", "overall_rating", "door_to_provider_min", "length_of_stay_hours",
    "is_lwbs", "complaint_category", "excerpt",
)
# Every character Python's str.split() splits on (RE2's \s is only [\t\n\f\r ]; \pZ the Unicode spaces).
_WHITESPACE = r"[\s\x0b\x1c-\x1f\x85\pZ]+"


def excerpts(conn: duckdb.DuckDBPyConnection, texts: Iterable[object], limit: int = EXCERPT_CHARS) -> list[str]:
    """Short excerpts of ``texts``, in order: on one line, phone numbers, ID numbers and e-mails replaced
    (again) by ``journey_scrub`` on ``conn``, then cut to ``limit`` characters ('' for a missing text)."""
    values = [None if text is None or (isinstance(text, float) and pd.isna(text)) else str(text) for text in texts]
    if not values:
        return []
    install_scrub_macros(conn)
    # Scrubbed before cut: a cut never leaves part of a number for the patterns to miss.
    one_line = f"trim(regexp_replace(txt, '{_WHITESPACE}', ' ', 'g'))"
    scrubbed = f"list_transform(?::varchar[], txt -> journey_scrub({one_line}))"
    cut = f"case when length(txt) <= {int(limit)} then txt else rtrim(left(txt, {int(limit) - 1})) || '…' end"
    row = conn.execute(f"select list_transform({scrubbed}, txt -> coalesce({cut}, ''))", [values]).fetchone()
    return list(row[0]) if row else [""] * len(values)


def build_worklist(conn: duckdb.DuckDBPyConnection, run_date: date) -> pd.DataFrame:
    """The worklist for ``run_date``: the mart's rows about the previous day, in COLUMNS order."""
    day = run_date - timedelta(days=1)
    wanted = [column for column in COLUMNS if column != "worklist_date"]
    frame = data.select(conn, MART, ["worklist_local_date", *wanted], where="worklist_local_date = ?", params=[day])
    frame["excerpt"] = excerpts(conn, frame["excerpt"])
    for column in ("nps_score", "overall_rating"):
        frame[column] = frame[column].astype("Int64")  # 0-10 answers, NULL for a complaint
    frame["worklist_date"] = day.isoformat()
    return frame[list(COLUMNS)].sort_values(["department_code", "source", "record_id"]).reset_index(drop=True)


def worklist_path(settings: Settings, run_date: date) -> Path:
    return settings.root / "worklist" / f"worklist-{run_date.isoformat()}.csv"


def write_worklist(settings: Settings, run_date: date, out: Path | None = None) -> tuple[Path, pd.DataFrame]:
    """Write the worklist CSV (UTF-8 with BOM so spreadsheet tools read Chinese text) and return it."""
    conn = connect_reader(require_published_warehouse(settings))
    try:
        frame = build_worklist(conn, run_date)
    except data.MissingData as error:
        raise JourneyError(f"worklist: {error}; rebuild the marts (`journey run --rebuild`).") from error
    finally:
        conn.close()
    target = out or worklist_path(settings, run_date)
    target.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(target, index=False, encoding="utf-8-sig")
    return target, frame
