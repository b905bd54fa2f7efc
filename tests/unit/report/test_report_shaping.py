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


def test_campaign_subsets_by_department_and_start_quarter() -> None:
    frame = pd.DataFrame({
        "campaign_id": ["c1", "c2", "c3", "organic"],
        "department_code": ["obstetrics", None, "obstetrics", None],
        "start_date": [date(2026, 1, 5), date(2026, 2, 1), date(2026, 4, 2), None],
    })
    subsets = {(kind, value): mask.tolist() for kind, value, mask in shaping.campaign_subsets(frame)}
    assert subsets == {
        ("all", ""): [True, True, True, True],
        ("department", "obstetrics"): [True, False, True, False],
        ("department", ""): [False, True, False, False],  # hospital-wide; organic touches are no campaign
        ("quarter", "2026Q1"): [True, True, False, False],
        ("quarter", "2026Q2"): [False, False, True, False],
    }


def test_cohort_grid_percent_and_suppression() -> None:
    frame = pd.DataFrame({
        "cohort_month_start_date": [date(2026, 1, 1), date(2026, 1, 1), date(2026, 2, 1)],
        "months_since_first_visit": [0, 1, 0],
        "retention_rate": [0.1, 0.25, 0.5],
        "suppressed": [False, False, True],
    })
    grid = shaping.cohort_grid(frame)
    assert grid.loc[date(2026, 1, 1)].tolist() == pytest.approx([10.0, 25.0])
    assert grid.loc[date(2026, 2, 1)].isna().all()


def test_campaign_funnel_totals_and_suppressed_attribution() -> None:
    frame = pd.DataFrame({
        "campaign_id": ["c1", "c2"],
        "impressions": [100, 50],
        "clicks": [10, 5],
        "bookings": [4, 2],
        "attended": [3, 1],
        "new_patients_linear": [3.5, 2.0],
        "attribution_suppressed": [False, True],
    })
    funnel = shaping.campaign_funnel(frame, new_patients="new_patients_linear")
    assert funnel["stage"].tolist() == ["impressions", "clicks", "bookings", "attended", "new_patients_linear"]
    assert funnel["count"].tolist() == [150.0, 15.0, 6.0, 4.0, 3.5]


def test_latest_kpis_picks_the_last_month_and_colours_status() -> None:
    frame = pd.DataFrame({
        "month_start_date": [date(2026, 1, 1), date(2026, 2, 1), date(2026, 2, 1)],
        "department_code": ["emergency", "emergency", "cardiology"],
        "kpi_code": ["nps", "nps", "nps"],
        "kpi_value": [30.0, 55.0, None],
        "target_value": [50.0, 50.0, 50.0],
        "kpi_status": ["off_track", "on_track", "suppressed"],
        "unit": ["score", "score", "score"],
    })
    rows = shaping.latest_kpis(frame)
    assert rows["department_code"].tolist() == ["cardiology", "emergency"]
    assert rows["display_value"].tolist() == ["—", "55.0"]
    assert rows["colour"].tolist() == [shaping.KPI_STATUS_COLOURS["suppressed"], shaping.KPI_STATUS_COLOURS["on_track"]]


@pytest.mark.parametrize(
    ("value", "unit", "expected"),
    [(0.953, "rate", "95.3 %"), (72, "pct", "72.0 %"), (41.4, "minutes", "41 min"), (35.25, "score", "35.2"),
     (None, "rate", "—"), (float("nan"), "pct", "—")],
)
def test_format_kpi(value: object, unit: str, expected: str) -> None:
    assert shaping.format_kpi(value, unit) == expected


def test_latest_kpis_prefers_the_latest_complete_month() -> None:
    frame = pd.DataFrame({
        "month_start_date": [date(2026, 1, 1), date(2026, 2, 1)],
        "department_code": ["emergency", "emergency"],
        "kpi_code": ["nps", "nps"],
        "kpi_value": [42.0, None],
        "target_value": [50.0, 50.0],
        "kpi_status": ["at_risk", "suppressed"],
        "unit": ["score", "score"],
    })
    # data ends 2026-02-03: February is three days old, January is the latest complete month
    rows = shaping.latest_kpis(frame, data_end=date(2026, 2, 3))
    assert rows["month_start_date"].tolist() == [date(2026, 1, 1)]
    assert rows["display_value"].tolist() == ["42.0"]
    # once February is complete it is shown
    assert shaping.latest_kpis(frame, data_end=date(2026, 2, 28))["month_start_date"].tolist() == [date(2026, 2, 1)]
    # nothing complete yet: the latest month anyway
    only_feb = frame.tail(1)
    assert shaping.latest_kpis(only_feb, data_end=date(2026, 2, 3))["month_start_date"].tolist() == [date(2026, 2, 1)]
