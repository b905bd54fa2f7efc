"""Dashboard data shaping on tiny hand-computed inputs."""

from __future__ import annotations

import math
from datetime import date

import pandas as pd
import pytest

from journey.report import shaping


def test_mask_suppressed_blanks_flagged_values_and_tolerates_a_missing_flag() -> None:
    frame = pd.DataFrame({"rate": [0.5, 0.25, None], "rate_suppressed": [False, True, True]})
    masked = shaping.mask_suppressed(frame, "rate", "rate_suppressed")
    assert masked.iloc[0] == 0.5
    assert masked.iloc[1:].isna().all()
    # a mart without the flag column yet: values pass through unchanged
    assert shaping.mask_suppressed(frame, "rate", "no_such_flag").iloc[1] == 0.25


def test_arrival_hour_grid_is_a_7_by_24_reshape_of_the_mart_rows() -> None:
    rows = pd.DataFrame({
        "arrival_weekday": [1, 1, 7, 3],
        "arrival_hour": [8, 9, 23, 0],
        "p50": [20.0, None, 45.0, 12.5],
    })
    grid = shaping.arrival_hour_grid(rows, "p50")
    assert grid.shape == (7, 24)
    assert grid.loc[1, 8] == 20.0 and grid.loc[7, 23] == 45.0 and grid.loc[3, 0] == 12.5
    assert math.isnan(grid.loc[1, 9]), "a suppressed cell stays blank"
    assert math.isnan(grid.loc[2, 12]), "a weekday-hour without a row is blank"
    assert int(grid.notna().to_numpy().sum()) == 3
    with pytest.raises(ValueError):  # one row per cell: the mart's grain, never aggregated here
        shaping.arrival_hour_grid(pd.concat([rows, rows.head(1)]), "p50")


def test_wait_quartiles_long_reshapes_the_monthly_columns() -> None:
    wide = pd.DataFrame({
        "month_start_date": [date(2026, 3, 1)],
        "department_code": ["emergency"],
        "nps_wait_q1": [40.0], "nps_wait_q2": [12.5], "nps_wait_q3": [None], "nps_wait_q4": [-20.0],
        "nps_wait_q1_responses": [20], "nps_wait_q2_responses": [16], "nps_wait_q3_responses": [4],
        "nps_wait_q4_responses": [15],
        "nps_wait_q1_suppressed": [False], "nps_wait_q2_suppressed": [False], "nps_wait_q3_suppressed": [True],
        "nps_wait_q4_suppressed": [False],
        "wait_q1_max_min": [12.0], "wait_q2_max_min": [25.5], "wait_q3_max_min": [40.0],
    })
    long = shaping.wait_quartiles_long(wide)
    assert long["wait_quartile"].tolist() == [1, 2, 3, 4]
    assert long["nps"].tolist()[:2] == [40.0, 12.5] and math.isnan(long["nps"][2]) and long["nps"][3] == -20.0
    assert long["respondents"].tolist() == [20, 16, 4, 15]
    assert math.isnan(long["wait_min_from"][0]) and long["wait_min_to"][0] == 12.0  # Q1: open below
    assert (long["wait_min_from"][1], long["wait_min_to"][1]) == (12.0, 25.5)
    assert long["wait_min_from"][3] == 40.0 and math.isnan(long["wait_min_to"][3])  # Q4: open above
    assert shaping.wait_quartiles_long(wide.iloc[0:0]).empty


def test_campaign_funnel_sums_the_people_stages_in_order() -> None:
    frame = pd.DataFrame({
        "campaign_id": ["c1", "c2"],
        "people_engaged": [40, 10], "people_reached": [100, 50], "people_booked": [8, 2],
        "people_attended": [6, 2], "people_new_patients": [5, 0],
        "impressions": [900, 400],  # an event count: not a funnel stage
    })
    funnel = shaping.campaign_funnel(frame)
    assert funnel["stage"].tolist() == list(shaping.FUNNEL_STAGES)
    assert funnel["count"].tolist() == [150.0, 50.0, 10.0, 8.0, 5.0]
    assert shaping.campaign_funnel(frame[["campaign_id"]]).empty


def _kpis(rows: list[tuple[date, str, float | None]], status: str = "on_track") -> pd.DataFrame:
    return pd.DataFrame({
        "month_start_date": [row[0] for row in rows], "department_code": "emergency",
        "kpi_code": [row[1] for row in rows], "kpi_value": [row[2] for row in rows], "target_value": 50.0,
        "kpi_status": status, "unit": "score",
    })


def test_kpi_changes_against_last_month_and_last_year_full_months_only() -> None:
    frame = _kpis([
        (date(2025, 3, 1), "nps", 20.0), (date(2026, 1, 1), "nps", 30.0), (date(2026, 2, 1), "nps", 42.5),
        (date(2026, 3, 1), "nps", 60.0), (date(2026, 4, 1), "nps", 10.0),
    ])
    # data end 2026-04-04: April is partial
    rows = shaping.kpi_changes(frame, data_end=date(2026, 4, 4)).set_index("month_start_date")
    assert rows.loc["2026-02-01", "change_month"] == 12.5
    assert rows.loc["2026-03-01", "change_month"] == 17.5
    assert rows.loc["2026-03-01", "change_year"] == 40.0  # March 2025 → March 2026
    assert math.isnan(rows.loc["2026-02-01", "change_year"])  # no February 2025: no comparison
    assert math.isnan(rows.loc["2026-01-01", "change_month"])  # no December
    assert bool(rows.loc["2026-04-01", "is_partial"]) and not rows.loc["2026-03-01", "is_partial"]
    assert math.isnan(rows.loc["2026-04-01", "change_month"]), "a partial month is never compared"
    assert rows.loc["2026-03-01", "colour"] == shaping.KPI_STATUS_COLOURS["on_track"]


def test_kpi_changes_do_not_compare_against_a_suppressed_month() -> None:
    frame = _kpis([(date(2026, 1, 1), "nps", None), (date(2026, 2, 1), "nps", 42.0)])
    rows = shaping.kpi_changes(frame, data_end=date(2026, 2, 28))
    assert math.isnan(rows["change_month"].iloc[1])
    assert rows["kpi_status"].tolist() == ["on_track", "on_track"]


def test_default_month_is_the_latest_complete_one() -> None:
    months = pd.Series(pd.to_datetime(["2026-01-01", "2026-02-01"]))
    assert shaping.default_month(months, date(2026, 2, 3)) == pd.Timestamp("2026-01-01")
    assert shaping.default_month(months, date(2026, 2, 28)) == pd.Timestamp("2026-02-01")
    assert shaping.default_month(months.tail(1), date(2026, 2, 3)) == pd.Timestamp("2026-02-01")
    assert shaping.default_month(months.iloc[0:0], None) is None
