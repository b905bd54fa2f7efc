"""Driver analysis: what moves NPS and overall top-box, per department and quarter.

Method (documented in the dashboard): ordinary least squares of the outcome on the survey items and
operational drivers, every variable standardised (z-scores) within the department × quarter, so each
coefficient is the change in the outcome, in standard deviations, for a one-SD change in the driver
with the others held constant. 95 % confidence intervals from the classical OLS standard errors
(t quantile, n − k − 1 degrees of freedom). Complete cases only; a driver known for under 80 % of the
group's respondents, or without variance in it, is left out; a group with fewer than
max(min_cell, 10 × drivers) respondents is not fitted.
Outcomes: the NPS score (0-10) and overall top-box (rating 9-10, as 0/1: a linear probability model).
Associations, not causes: items are answered together and correlate.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd

from journey.report import data

HCAHPS_SCALE: dict[str, float] = {"never": 1.0, "sometimes": 2.0, "usually": 3.0, "always": 4.0}
ITEMS: tuple[str, ...] = (
    "nurse_communication", "doctor_communication", "responsiveness", "cleanliness", "quietness",
    "discharge_information",
)
OPERATIONAL: tuple[str, ...] = (
    "door_to_provider_min", "length_of_stay_hours", "booking_lead_time_days", "prior_no_shows",
)
LABELS: dict[str, str] = {
    "nurse_communication": "Nurse communication", "doctor_communication": "Doctor communication",
    "responsiveness": "Responsiveness", "cleanliness": "Cleanliness", "quietness": "Quietness",
    "discharge_information": "Discharge information", "door_to_provider_min": "Door-to-provider (min)",
    "length_of_stay_hours": "Length of stay (h)", "booking_lead_time_days": "Booking lead time (days)",
    "prior_no_shows": "Prior no-shows",
}
MIN_DRIVER_COVERAGE = 0.8  # share of the group's respondents that must have the driver
OUTCOMES: dict[str, str] = {"nps_score": "NPS score (0-10)", "is_overall_top_box": "Overall top-box"}


@dataclass(frozen=True)
class Fit:
    coefficients: pd.DataFrame  # driver, beta, ci_low, ci_high, std_error
    n: int
    r_squared: float


def _t_quantile(df: int) -> float:
    """Two-sided 95 % Student t quantile (Cornish-Fisher expansion; exact to ~1e-4 for df ≥ 3)."""
    z = 1.959963984540054
    if df <= 0:
        return math.inf
    g1 = (z**3 + z) / 4
    g2 = (5 * z**5 + 16 * z**3 + 3 * z) / 96
    g3 = (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / 384
    return z + g1 / df + g2 / df**2 + g3 / df**3


def standardised_ols(frame: pd.DataFrame, outcome: str, drivers: list[str]) -> Fit | None:
    """Standardised OLS coefficients with 95 % CIs; None if too few complete cases for the drivers."""
    rows = frame[[outcome, *drivers]].apply(pd.to_numeric, errors="coerce").astype("float64").dropna()
    kept = [d for d in drivers if rows[d].std(ddof=1) > 0]
    if rows[outcome].std(ddof=1) == 0 or not kept or len(rows) <= len(kept) + 1:
        return None
    z = (rows - rows.mean()) / rows.std(ddof=1)
    x = z[kept].to_numpy()
    y = z[outcome].to_numpy()
    beta, *_ = np.linalg.lstsq(x, y, rcond=None)  # no intercept: every column is centred
    residuals = y - x @ beta
    n, k = x.shape
    dof = n - k - 1
    sigma2 = float(residuals @ residuals) / dof if dof > 0 else math.nan
    covariance = sigma2 * np.linalg.pinv(x.T @ x)
    std_error = np.sqrt(np.clip(np.diag(covariance), 0, None))
    t = _t_quantile(dof)
    coefficients = pd.DataFrame({
        "driver": kept, "beta": beta, "std_error": std_error,
        "ci_low": beta - t * std_error, "ci_high": beta + t * std_error,
    })
    r_squared = 1.0 - float(residuals @ residuals) / float(y @ y)
    return Fit(coefficients, n, r_squared)


def driver_table(frame: pd.DataFrame, *, min_cell: int = 11) -> pd.DataFrame:
    """Fits per department × quarter × outcome. ``frame``: one row per respondent with department_code,
    quarter (e.g. '2026Q1'), the outcomes and the drivers (items coded 1-4 already)."""
    records: list[pd.DataFrame] = []
    drivers = [d for d in (*ITEMS, *OPERATIONAL) if d in frame.columns]
    for (department, quarter), group in frame.groupby(["department_code", "quarter"], sort=True):
        for outcome in OUTCOMES:
            if outcome not in group:
                continue
            # a driver mostly absent in this department (e.g. booking lead time in the ED) is left out
            # rather than shrinking the complete cases to the few visits that have it
            usable = [d for d in drivers if group[d].notna().mean() >= MIN_DRIVER_COVERAGE]
            complete = group[[outcome, *usable]].dropna()
            if len(complete) < max(min_cell, 10 * max(len(usable), 1)):
                continue
            fit = standardised_ols(complete, outcome, usable)
            if fit is None:
                continue
            records.append(fit.coefficients.assign(
                department_code=str(department), quarter=str(quarter), outcome=outcome, n=fit.n,
                r_squared=fit.r_squared,
            ))
    if not records:
        return pd.DataFrame(columns=["department_code", "quarter", "outcome", "driver", "beta", "std_error",
                                     "ci_low", "ci_high", "n", "r_squared"])
    return pd.concat(records, ignore_index=True)


def respondents(conn: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """One row per visit with a primary survey: outcomes, items coded 1-4, operational drivers.

    prior_no_shows = the patient's no-shows before this arrival (fct_appointments). The patient key
    is used inside the query only and is not returned."""
    present = data.table_columns(conn, "fct_encounters")
    needed = {"department_code", "arrived_local_date", "nps_score", "overall_rating", "is_visit", "arrived_at",
              "patient_key"}
    if not needed <= present:
        raise data.MissingData(f"marts.fct_encounters has no column {', '.join(sorted(needed - present))}")
    items = [item for item in ITEMS if item in present]
    operational = [c for c in ("door_to_provider_min", "length_of_stay_hours", "booking_lead_time_days")
                   if c in present]
    coded = ", ".join(
        f"case lower(encounters.{item}) when 'never' then 1 when 'sometimes' then 2 when 'usually' then 3 "
        f"when 'always' then 4 end as {item}" for item in items
    )
    has_appointments = {"patient_key", "is_no_show", "start_at"} <= data.table_columns(conn, "fct_appointments")
    no_shows = (
        "(select count(*) from marts.fct_appointments as appointments where appointments.patient_key = "
        "encounters.patient_key and appointments.is_no_show and appointments.start_at < encounters.arrived_at)"
        if has_appointments else "null"
    )
    selected = ", ".join(
        ["encounters.department_code",
         "cast(year(encounters.arrived_local_date) as varchar) || 'Q' || "
         "cast(quarter(encounters.arrived_local_date) as varchar) as quarter",
         "encounters.nps_score",
         "case when encounters.overall_rating is not null then "
         "cast(encounters.overall_rating >= 9 as integer) end as is_overall_top_box"]
        + ([coded] if coded else [])
        + [f"encounters.{c}" for c in operational]
        + [f"{no_shows} as prior_no_shows"]
    )
    return conn.execute(
        f"select {selected} from marts.fct_encounters as encounters "
        "where encounters.is_visit and (encounters.nps_score is not null or encounters.overall_rating is not null)"
    ).df()
