"""`journey worklist --date D`: the service-recovery worklist of day D − 1.

One row per survey response from a detractor (NPS ≤ 6) or with a bottom-box answer (overall rating
0-6, or an HCAHPS-style item answered "never" / "sometimes"), and one row per complaint received,
on the previous hospital-local day. Each row carries the department, what happened (waits, a short
comment excerpt) and the encounter id the patient-relations team looks up in the EHR. It never
carries the patient's identity: no patient key, no name, no contact; excerpts are scrubbed again, in
DuckDB, by the loader's own ``journey_scrub`` macro (journey.ingest.pseudonymise).
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

EXCERPT_CHARS = 200
HCAHPS_ITEMS: tuple[str, ...] = (
    "nurse_communication", "doctor_communication", "responsiveness", "cleanliness", "quietness",
    "discharge_information",
)
BOTTOM_BOX_ANSWERS: frozenset[str] = frozenset({"never", "sometimes"})
COLUMNS: tuple[str, ...] = (
    "worklist_date", "source", "record_id", "encounter_id", "department_code", "department_name", "reasons",
    "nps_score", "overall_rating", "door_to_provider_min", "length_of_stay_hours", "is_lwbs",
    "complaint_category", "excerpt",
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


def survey_reasons(frame: pd.DataFrame) -> pd.Series:
    """Why each response is on the list ('' when it is not): detractor and bottom-box answers."""
    parts: list[pd.Series] = []
    nps = pd.to_numeric(frame["nps_score"], errors="coerce")
    parts.append(pd.Series("detractor (NPS " + nps.astype("Int64").astype(str) + ")", index=frame.index)
                 .where(nps <= 6, ""))
    if "overall_rating" in frame:
        overall = pd.to_numeric(frame["overall_rating"], errors="coerce")
        parts.append(pd.Series("overall rating " + overall.astype("Int64").astype(str), index=frame.index)
                     .where(overall <= 6, ""))
    for item in HCAHPS_ITEMS:
        if item in frame:
            answer = frame[item].astype("string").str.lower()
            parts.append(("bottom-box " + item.replace("_", " ") + ": " + answer)
                         .where(answer.isin(BOTTOM_BOX_ANSWERS), "").fillna(""))
    joined = pd.concat(parts, axis=1).apply(lambda row: "; ".join(part for part in row if part), axis=1)
    return joined.astype("string") if len(frame) else pd.Series([], dtype="string")


def _surveys(conn: duckdb.DuckDBPyConnection, day: date) -> pd.DataFrame:
    frame = data.select(
        conn, "fct_survey_responses", ["response_id", "encounter_id", "department_code", "nps_score"],
        ["overall_rating", *HCAHPS_ITEMS, "comment_text"],
        where="authored_local_date = ? and coalesce(is_completed, true)", params=[day],
    )
    if frame.empty:
        return pd.DataFrame(columns=list(COLUMNS))
    frame["reasons"] = survey_reasons(frame)
    frame = frame[frame["reasons"] != ""].copy()
    frame["source"] = "survey"
    frame["record_id"] = frame["response_id"]
    frame["excerpt"] = excerpts(conn, frame.get("comment_text", pd.Series(index=frame.index)))
    return frame


def _complaints(conn: duckdb.DuckDBPyConnection, day: date) -> pd.DataFrame:
    frame = data.select(
        conn, "fct_complaints", ["complaint_id", "department_code"],
        ["encounter_id", "complaint_category", "complaint_channel", "description_text"],
        where="received_local_date = ?", params=[day],
    )
    frame["source"] = "complaint"
    frame["record_id"] = frame["complaint_id"]
    missing = pd.Series(pd.NA, index=frame.index, dtype="string")
    channel = frame["complaint_channel"].astype("string") if "complaint_channel" in frame else missing
    category = frame["complaint_category"].astype("string") if "complaint_category" in frame else missing
    frame["reasons"] = "new complaint (" + category.fillna("uncategorised") + ", via " + channel.fillna("?") + ")"
    frame["excerpt"] = excerpts(conn, frame.get("description_text", pd.Series(index=frame.index)))
    return frame


def _waits(conn: duckdb.DuckDBPyConnection, encounter_ids: list[str]) -> pd.DataFrame:
    if not encounter_ids:
        return pd.DataFrame(columns=["encounter_id", "door_to_provider_min", "length_of_stay_hours", "is_lwbs"])
    ids = pd.DataFrame({"encounter_id": encounter_ids})
    conn.register("worklist_encounter_ids", ids)
    try:
        present = data.table_columns(conn, "fct_encounters")
        wanted = [c for c in ("door_to_provider_min", "length_of_stay_hours", "is_lwbs") if c in present]
        selected = "".join(f", encounters.{column}" for column in wanted)
        return conn.execute(
            f"select encounters.encounter_id{selected} from marts.fct_encounters as encounters "
            "inner join worklist_encounter_ids using (encounter_id)"
        ).df()
    finally:
        conn.unregister("worklist_encounter_ids")


def build_worklist(conn: duckdb.DuckDBPyConnection, run_date: date) -> pd.DataFrame:
    """The worklist for ``run_date``: rows about the previous day, in COLUMNS order."""
    day = run_date - timedelta(days=1)
    rows = pd.concat([_surveys(conn, day), _complaints(conn, day)], ignore_index=True)
    for column in COLUMNS:
        if column not in rows:
            rows[column] = pd.NA
    ids = sorted({str(value) for value in rows["encounter_id"].dropna()})
    waits = _waits(conn, ids)
    rows = rows.drop(columns=[c for c in waits.columns if c != "encounter_id"]).merge(
        waits, on="encounter_id", how="left"
    )
    for column in COLUMNS:
        if column not in rows:
            rows[column] = pd.NA
    for column in ("nps_score", "overall_rating"):
        rows[column] = pd.to_numeric(rows[column], errors="coerce").round().astype("Int64")  # 0-10 answers
    names = data.department_names(conn)
    rows["department_name"] = rows["department_code"].map(names)
    rows["worklist_date"] = day.isoformat()
    return rows[list(COLUMNS)].sort_values(["department_code", "source", "record_id"]).reset_index(drop=True)


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
