"""Pure data shaping for the dashboard: small pandas transforms over rows read from the marts.

Every function takes and returns DataFrames, never touches the warehouse, and applies small-cell
suppression the same way the marts do: a value computed over fewer than ``min_cell`` units is
NaN, so the chart leaves a gap instead of plotting it.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

WEEKDAYS: tuple[str, ...] = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")

KPI_STATUS_COLOURS: dict[str, str] = {
    "on_track": "#1a9850",
    "at_risk": "#f0a202",
    "off_track": "#d73027",
    "suppressed": "#9e9e9e",
    "no_data": "#9e9e9e",
}


def mask_suppressed(frame: pd.DataFrame, value: str, flag: str | None) -> pd.Series:
    """``frame[value]`` as floats, NaN where the suppression ``flag`` column is true.

    The marts already null suppressed values; this is the belt to their braces (and tolerates a
    missing flag column while the models change)."""
    values = pd.to_numeric(frame[value], errors="coerce").astype("float64")
    if flag is not None and flag in frame.columns:
        flagged = frame[flag].fillna(False).astype(bool)
        values = values.mask(flagged)
    return values


def hour_weekday_grid(
    frame: pd.DataFrame, *, value: str = "door_to_provider_min", min_cell: int = 11
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Median ``value`` by ISO weekday (rows, 1 = Monday) × local hour of arrival (columns 0-23).

    ``frame`` has one row per encounter with ``weekday`` (1-7), ``hour`` (0-23) and ``value``.
    Returns (medians, counts), each 7 × 24; a cell with fewer than ``min_cell`` encounters is NaN in
    the medians (its count is still shown)."""
    rows = frame.dropna(subset=[value])
    grouped = rows.groupby(["weekday", "hour"])[value]
    index = pd.Index(range(1, 8), name="weekday")
    columns = pd.Index(range(24), name="hour")
    medians = grouped.median().unstack("hour").reindex(index=index, columns=columns)
    counts = grouped.size().unstack("hour").reindex(index=index, columns=columns).fillna(0).astype("int64")
    medians = medians.where(counts >= min_cell)
    return medians.astype("float64"), counts


def nps_by_wait_quartile(
    frame: pd.DataFrame, *, wait: str = "door_to_provider_min", min_cell: int = 11
) -> pd.DataFrame:
    """NPS by the door-to-provider quartile each respondent experienced, per department.

    ``frame``: one row per respondent with ``department_code``, ``nps_score`` (0-10) and ``wait``.
    Quartiles are equal-count groups of respondents within the department, ordered by wait (ties
    broken by row order, so groups stay equal-sized). NPS = 100 × (promoters 9-10 − detractors 0-6)
    ÷ respondents; NaN when the quartile has fewer than ``min_cell`` respondents.
    Columns: department_code, wait_quartile (1-4), respondents, wait_min_from, wait_min_to, nps."""
    rows = frame.dropna(subset=["nps_score", wait]).copy()
    columns = ["department_code", "wait_quartile", "respondents", "wait_min_from", "wait_min_to", "nps"]
    if rows.empty:
        return pd.DataFrame(columns=columns)
    rows = rows.sort_values(["department_code", wait], kind="stable")
    position = rows.groupby("department_code").cumcount()
    size = rows.groupby("department_code")[wait].transform("size")
    rows["wait_quartile"] = (position * 4 // size + 1).astype("int64")
    rows["is_promoter"] = rows["nps_score"] >= 9
    rows["is_detractor"] = rows["nps_score"] <= 6
    out = (
        rows.groupby(["department_code", "wait_quartile"])
        .agg(
            respondents=("nps_score", "size"),
            wait_min_from=(wait, "min"),
            wait_min_to=(wait, "max"),
            promoters=("is_promoter", "sum"),
            detractors=("is_detractor", "sum"),
        )
        .reset_index()
    )
    nps = 100.0 * (out["promoters"] - out["detractors"]) / out["respondents"]
    out["nps"] = nps.where(out["respondents"] >= min_cell)
    return out[columns]


def cohort_grid(frame: pd.DataFrame) -> pd.DataFrame:
    """Retention % (0-100) by cohort month (rows) × months since first visit (columns); suppressed = NaN."""
    if frame.empty:
        return pd.DataFrame()
    values = mask_suppressed(frame, "retention_rate", "suppressed") * 100.0
    shaped = frame.assign(retention_pct=values)
    grid = shaped.pivot_table(
        index="cohort_month_start_date", columns="months_since_first_visit", values="retention_pct",
        aggfunc="first", dropna=False,
    )
    return grid.sort_index().sort_index(axis=1).astype("float64")


FUNNEL_STAGES: tuple[tuple[str, str], ...] = (
    ("impressions", "Impressions"),
    ("clicks", "Clicks"),
    ("bookings", "Bookings (tracked)"),
    ("attended", "Attended"),
)


def campaign_funnel(frame: pd.DataFrame, *, new_patients: str | None = None) -> pd.DataFrame:
    """Totals over campaigns for each funnel stage present in ``frame`` (stage, label, count).

    ``new_patients`` names the attributed new-patient column to append as the last stage; campaigns
    whose attribution is suppressed (``attribution_suppressed``) do not contribute to it."""
    stages = [(column, label) for column, label in FUNNEL_STAGES if column in frame.columns]
    counts = [float(pd.to_numeric(frame[column], errors="coerce").fillna(0).sum()) for column, _ in stages]
    if new_patients is not None and new_patients in frame.columns:
        stages.append((new_patients, "New patients (attributed)"))
        counts.append(float(mask_suppressed(frame, new_patients, "attribution_suppressed").fillna(0).sum()))
    return pd.DataFrame(
        {"stage": [column for column, _ in stages], "label": [label for _, label in stages], "count": counts}
    )


def latest_kpis(frame: pd.DataFrame, *, data_end: date | None = None) -> pd.DataFrame:
    """The latest month of each KPI × department, with a display value and a status colour.

    With ``data_end`` (the last day with data), the latest month *complete* by then is shown when
    there is one: a month three days old is mostly suppressed cells and says little."""
    if frame.empty:
        return frame.assign(display_value=pd.Series(dtype="object"), colour=pd.Series(dtype="object"))
    if data_end is not None:
        month_end = pd.to_datetime(frame["month_start_date"]) + pd.offsets.MonthEnd(0)
        complete = frame[month_end <= pd.Timestamp(data_end)]
        if not complete.empty:
            frame = complete
    latest = frame.groupby(["kpi_code", "department_code"])["month_start_date"].transform("max")
    rows = frame[frame["month_start_date"] == latest].copy()
    rows["display_value"] = [
        format_kpi(value, unit) for value, unit in zip(rows["kpi_value"], rows["unit"], strict=True)
    ]
    rows["display_target"] = [
        format_kpi(value, unit) for value, unit in zip(rows["target_value"], rows["unit"], strict=True)
    ]
    status = rows["kpi_status"].fillna("no_data")
    rows["kpi_status"] = status
    rows["colour"] = status.map(KPI_STATUS_COLOURS).fillna(KPI_STATUS_COLOURS["no_data"])
    return rows.sort_values(["kpi_code", "department_code"]).reset_index(drop=True)


def format_kpi(value: object, unit: object) -> str:
    """A KPI value for people: rate 0.953 → '95.3 %', pct 72 → '72.0 %', minutes → '41 min', score → '35.2'."""
    if value is None or (isinstance(value, float) and np.isnan(value)) or pd.isna(value):  # type: ignore[call-overload]
        return "—"
    number = float(value)  # type: ignore[arg-type]
    if unit == "rate":
        return f"{100 * number:.1f} %"
    if unit == "pct":
        return f"{number:.1f} %"
    if unit == "minutes":
        return f"{number:.0f} min"
    if unit == "hours":
        return f"{number:.1f} h"
    return f"{number:.1f}"
