"""Driver analysis: what moves NPS and overall top-box, per department and quarter.

The inputs are a mart, ``marts.fct_survey_driver_inputs`` (one row per visit with a primary survey
response: outcomes, HCAHPS-style items scored 1-4, waits, booking lead time, prior no-shows); this
module only fits the models, with statsmodels, each with errors valid for its outcome's type:

* NPS score (0-10, treated as continuous): OLS of the z-scored score on the z-scored drivers, with
  HC3 heteroskedasticity-robust standard errors (a bounded score's residual variance is not
  constant) — each coefficient is the SD change in the score per 1-SD change in the driver, the
  others held constant; 95 % CIs from the t distribution.
* Overall top-box (rating 9-10, 0/1): logistic regression on the z-scored drivers (maximum
  likelihood) — each coefficient is the change in log-odds per 1-SD change in the driver, shown as
  an odds ratio; 95 % Wald CIs from the normal distribution. A linear probability model with
  classical errors would give wrong error bars for a binary outcome.

Complete cases only; a driver known for under 80 % of the group's respondents, or without variance in
it, is left out; a group with fewer than max(min_cell, 10 × drivers) respondents is not fitted, nor a
logistic fit that does not converge or separates the outcome perfectly (its estimates are infinite).
Associations, not causes: items are answered together and correlate.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd

from journey.report import data

MART = "fct_survey_driver_inputs"
ITEMS: tuple[str, ...] = (
    "nurse_communication_score", "doctor_communication_score", "responsiveness_score", "cleanliness_score",
    "quietness_score", "discharge_information_score",
)
OPERATIONAL: tuple[str, ...] = (
    "door_to_provider_min", "length_of_stay_hours", "booking_lead_time_days", "prior_no_shows",
)
MIN_DRIVER_COVERAGE = 0.8  # share of the group's respondents that must have the driver
OUTCOMES: tuple[str, ...] = ("nps_score", "is_overall_top_box")
BINARY_OUTCOMES = frozenset({"is_overall_top_box"})
#: statsmodels' names of the standard errors each outcome's fit reports
SE_TYPES: dict[str, str] = {"nps_score": "HC3", "is_overall_top_box": "nonrobust"}
COLUMNS: tuple[str, ...] = (
    "department_code", "quarter", "outcome", "method", "se_type", "driver", "estimate", "std_error", "ci_low",
    "ci_high", "p_value", "n", "goodness_of_fit",
)


@dataclass(frozen=True)
class Fit:
    coefficients: pd.DataFrame  # driver, estimate, std_error, ci_low, ci_high, p_value (intercept left out)
    n: int
    method: str  # "ols_hc3" or "logit"
    se_type: str  # statsmodels' cov_type: "HC3", or "nonrobust" (the logit's MLE information matrix)
    goodness_of_fit: float  # R² (OLS) or McFadden's pseudo R² (logit)


def _design(frame: pd.DataFrame, outcome: str, drivers: list[str]) -> tuple[pd.Series, pd.DataFrame] | None:
    """The outcome and the z-scored drivers with a constant (complete cases; constant drivers dropped)."""
    import statsmodels.api as sm

    rows = frame[[outcome, *drivers]].apply(pd.to_numeric, errors="coerce").astype("float64").dropna()
    kept = [d for d in drivers if rows[d].std(ddof=1) > 0]
    if not kept or len(rows) <= len(kept) + 1 or rows[outcome].std(ddof=1) == 0:
        return None
    x = (rows[kept] - rows[kept].mean()) / rows[kept].std(ddof=1)
    return rows[outcome], sm.add_constant(x, has_constant="add")


def _coefficients(result: object, drivers: list[str]) -> pd.DataFrame:
    params, errors, pvalues = result.params, result.bse, result.pvalues  # type: ignore[attr-defined]
    intervals = result.conf_int(alpha=0.05)  # type: ignore[attr-defined]
    return pd.DataFrame({
        "driver": drivers, "estimate": params[drivers].to_numpy(), "std_error": errors[drivers].to_numpy(),
        "ci_low": intervals.loc[drivers, 0].to_numpy(), "ci_high": intervals.loc[drivers, 1].to_numpy(),
        "p_value": pvalues[drivers].to_numpy(),
    })


def fit_ols_hc3(frame: pd.DataFrame, outcome: str, drivers: list[str]) -> Fit | None:
    """OLS of the z-scored ``outcome`` on the z-scored drivers, HC3 standard errors; None if unfittable."""
    import statsmodels.api as sm

    design = _design(frame, outcome, drivers)
    if design is None:
        return None
    y, x = design
    result = sm.OLS((y - y.mean()) / y.std(ddof=1), x).fit(cov_type="HC3")
    kept = [c for c in x.columns if c != "const"]
    return Fit(_coefficients(result, kept), int(result.nobs), "ols_hc3", "HC3", float(result.rsquared))


def fit_logit(frame: pd.DataFrame, outcome: str, drivers: list[str]) -> Fit | None:
    """Logistic regression of the 0/1 ``outcome`` on the z-scored drivers; None if both classes are not
    present, the fit does not converge, or a driver separates the outcome perfectly."""
    import statsmodels.api as sm
    from statsmodels.tools.sm_exceptions import ConvergenceWarning, PerfectSeparationWarning

    design = _design(frame, outcome, drivers)
    if design is None:
        return None
    y, x = design
    if not set(y.unique()) <= {0.0, 1.0}:
        raise ValueError(f"{outcome} is not binary (0/1)")
    with warnings.catch_warnings():
        warnings.simplefilter("error", PerfectSeparationWarning)
        warnings.simplefilter("error", ConvergenceWarning)
        try:
            result = sm.Logit(y, x).fit(disp=0, maxiter=100)
        except (PerfectSeparationWarning, ConvergenceWarning, np.linalg.LinAlgError):
            return None
    if not result.mle_retvals.get("converged", False) or not np.all(np.isfinite(result.bse)):
        return None
    kept = [c for c in x.columns if c != "const"]
    return Fit(_coefficients(result, kept), int(result.nobs), "logit", "nonrobust", float(result.prsquared))


def fit(frame: pd.DataFrame, outcome: str, drivers: list[str]) -> Fit | None:
    """The model valid for ``outcome``: logistic for a binary one, OLS with HC3 errors otherwise."""
    return (fit_logit if outcome in BINARY_OUTCOMES else fit_ols_hc3)(frame, outcome, drivers)


def driver_table(frame: pd.DataFrame, *, min_cell: int = 11) -> pd.DataFrame:
    """Fits per department × quarter × outcome, in COLUMNS. ``frame``: rows of fct_survey_driver_inputs
    (department_code, visit_quarter, the outcomes and the drivers)."""
    records: list[pd.DataFrame] = []
    drivers = [d for d in (*ITEMS, *OPERATIONAL) if d in frame.columns]
    for (department, quarter), group in frame.groupby(["department_code", "visit_quarter"], sort=True):
        for outcome in OUTCOMES:
            if outcome not in group:
                continue
            # a driver mostly absent in this department (e.g. booking lead time in the ED) is left out
            # rather than shrinking the complete cases to the few visits that have it
            usable = [d for d in drivers if group[d].notna().mean() >= MIN_DRIVER_COVERAGE]
            complete = group[[outcome, *usable]].dropna()
            if len(complete) < max(min_cell, 10 * max(len(usable), 1)):
                continue
            result = fit(complete, outcome, usable)
            if result is None:
                continue
            records.append(result.coefficients.assign(
                department_code=str(department), quarter=str(quarter), outcome=outcome, method=result.method,
                se_type=result.se_type, n=result.n, goodness_of_fit=result.goodness_of_fit,
            ))
    if not records:
        return pd.DataFrame(columns=list(COLUMNS))
    return pd.concat(records, ignore_index=True)[list(COLUMNS)]


def respondents(conn: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """The driver inputs mart (marts.fct_survey_driver_inputs); MissingData when it is not built."""
    frame = data.select(conn, MART, ["department_code", "visit_quarter", *OUTCOMES], [*ITEMS, *OPERATIONAL])
    frame["is_overall_top_box"] = frame["is_overall_top_box"].map({True: 1.0, False: 0.0})  # NULL stays NaN
    return frame
