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


FUNNEL_STAGES: tuple[str, ...] = (
    "people_reached", "people_engaged", "people_booked", "people_attended", "people_new_patients",
)


def campaign_funnel(frame: pd.DataFrame) -> pd.DataFrame:
    """Sums over campaigns of each people_* funnel stage in ``frame`` (stage, count), in stage order.

    Every stage counts the people the campaign touched, so a later stage never exceeds the one before
    (the mart tests this per campaign, and a sum of subsets keeps it)."""
    stages = [column for column in FUNNEL_STAGES if column in frame.columns]
    counts = [float(pd.to_numeric(frame[column], errors="coerce").fillna(0).sum()) for column in stages]
    return pd.DataFrame({"stage": stages, "count": counts})


def is_partial_month(months: pd.Series, data_end: date | None) -> pd.Series:
    """True for months that end after ``data_end`` (the last day with data): not yet complete."""
    if data_end is None:
        return pd.Series(False, index=months.index)
    month_end = pd.to_datetime(months) + pd.offsets.MonthEnd(0)
    return month_end > pd.Timestamp(data_end)


def kpi_changes(frame: pd.DataFrame, *, data_end: date | None) -> pd.DataFrame:
    """``metrics_kpi_status`` rows with ``is_partial`` and the change against the previous month
    (``change_month``) and the same month a year before (``change_year``): differences of two published
    values, NaN unless both months are complete and both values published."""
    rows = frame.copy()
    rows["month_start_date"] = pd.to_datetime(rows["month_start_date"])
    rows["is_partial"] = is_partial_month(rows["month_start_date"], data_end)
    rows["kpi_value"] = pd.to_numeric(rows["kpi_value"], errors="coerce").astype("float64")
    full = rows.loc[~rows["is_partial"], ["kpi_code", "department_code", "month_start_date", "kpi_value"]]
    for column, offset in (("change_month", pd.DateOffset(months=1)), ("change_year", pd.DateOffset(years=1))):
        earlier = full.assign(month_start_date=full["month_start_date"] + offset).rename(
            columns={"kpi_value": "earlier_value"})
        rows = rows.merge(earlier, on=["kpi_code", "department_code", "month_start_date"], how="left")
        rows[column] = (rows["kpi_value"] - rows["earlier_value"]).where(~rows["is_partial"])
        rows = rows.drop(columns="earlier_value")
    rows["kpi_status"] = rows["kpi_status"].fillna("no_data")
    rows["colour"] = rows["kpi_status"].map(KPI_STATUS_COLOURS).fillna(KPI_STATUS_COLOURS["no_data"])
    return rows.sort_values(["month_start_date", "kpi_code", "department_code"]).reset_index(drop=True)


def default_month(months: pd.Series, data_end: date | None) -> pd.Timestamp | None:
    """The month the page opens on: the latest complete month, else the latest month."""
    if months.empty:
        return None
    stamps = pd.to_datetime(months)
    complete = stamps[~is_partial_month(stamps, data_end)]
    return (complete if not complete.empty else stamps).max()
