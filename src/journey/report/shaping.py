"""Pure data shaping for the dashboard: reshapes of rows read from the marts (pivots, long formats,
filter options) and sums of their published counts (funnel totals). Every percentile, rate and
score comes from a dbt model, never from here.

Every function takes and returns DataFrames and never touches the warehouse. A value the mart
flags as suppressed is NaN, so the chart leaves a gap instead of plotting it.
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


def arrival_hour_grid(frame: pd.DataFrame, value: str) -> pd.DataFrame:
    """One department · class of ``metrics_wait_by_arrival_hour`` as a 7 × 24 grid of ``value``: rows
    ISO weekday 1-7 (Monday first), columns local hour 0-23; a weekday-hour without a row is NaN.

    A reshape, not an aggregate: the mart has one row per cell (``pivot`` refuses duplicates)."""
    grid = frame.pivot(index="arrival_weekday", columns="arrival_hour", values=value)
    grid = grid.reindex(index=pd.Index(range(1, 8), name="weekday"), columns=pd.Index(range(24), name="hour"))
    return grid.astype("float64")


WAIT_QUARTILES: tuple[int, ...] = (1, 2, 3, 4)


def wait_quartiles_long(frame: pd.DataFrame) -> pd.DataFrame:
    """``metrics_satisfaction_monthly``'s NPS-by-wait-quartile columns as one row per month ×
    department × quartile: ``nps`` (NaN when suppressed), ``respondents`` and the quartile's wait
    range ``wait_min_from`` … ``wait_min_to`` from the month's cut points (NaN = open end).

    A reshape of columns into rows: the NPS and the cut points are the mart's own."""
    parts = []
    for quartile in WAIT_QUARTILES:
        part = frame[["month_start_date", "department_code"]].copy()
        part["wait_quartile"] = quartile
        part["nps"] = mask_suppressed(frame, f"nps_wait_q{quartile}", f"nps_wait_q{quartile}_suppressed")
        part["respondents"] = pd.to_numeric(frame[f"nps_wait_q{quartile}_responses"], errors="coerce")
        lower, upper = f"wait_q{quartile - 1}_max_min", f"wait_q{quartile}_max_min"
        part["wait_min_from"] = pd.to_numeric(frame[lower], errors="coerce") if lower in frame else np.nan
        part["wait_min_to"] = pd.to_numeric(frame[upper], errors="coerce") if upper in frame else np.nan
        parts.append(part)
    columns = ["month_start_date", "department_code", "wait_quartile", "nps", "respondents", "wait_min_from",
               "wait_min_to"]
    if frame.empty:
        return pd.DataFrame(columns=columns)
    long = pd.concat(parts, ignore_index=True)[columns]
    return long.sort_values(["department_code", "month_start_date", "wait_quartile"]).reset_index(drop=True)


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


def campaign_subsets(frame: pd.DataFrame) -> list[tuple[str, str, pd.Series]]:
    """The campaign chart's filter options as (kind, value, row mask): every row (``all``), each owning
    department (``department``; hospital-wide campaigns have none: value ``""``), and each quarter
    campaigns started in (``quarter``, e.g. ``2026Q1``). Organic touches belong to ``all`` only."""
    subsets: list[tuple[str, str, pd.Series]] = [("all", "", pd.Series(True, index=frame.index))]
    campaign = frame["campaign_id"] != "organic"
    if "department_code" in frame.columns:
        departments = frame["department_code"]
        for code in sorted(departments.dropna().astype(str).unique()):
            subsets.append(("department", code, campaign & (departments == code)))
        if (campaign & departments.isna()).any():
            subsets.append(("department", "", campaign & departments.isna()))
    if "start_date" in frame.columns:
        quarters = pd.to_datetime(frame["start_date"]).dt.to_period("Q")
        for quarter in sorted(quarters.dropna().unique()):
            subsets.append(("quarter", str(quarter), campaign & (quarters == quarter)))
    return subsets


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
