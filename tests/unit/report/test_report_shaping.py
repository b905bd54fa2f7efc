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


def test_hour_weekday_grid_medians_counts_and_small_cells() -> None:
    frame = pd.DataFrame({
        "weekday": [1, 1, 1, 2, 7, 7, 3],
        "hour": [8, 8, 8, 9, 23, 23, 0],
        "door_to_provider_min": [10.0, 40.0, 20.0, 5.0, 30.0, 50.0, None],
    })
    medians, counts = shaping.hour_weekday_grid(frame, min_cell=2)
    assert medians.shape == (7, 24) and counts.shape == (7, 24)
    assert medians.loc[1, 8] == 20.0  # median of 10, 20, 40
    assert counts.loc[1, 8] == 3
    assert medians.loc[7, 23] == 40.0  # median of 30, 50
    assert counts.loc[2, 9] == 1 and math.isnan(medians.loc[2, 9])  # 1 visit < min_cell 2: blank
    assert counts.loc[3, 0] == 0  # the NULL wait is not counted
    assert int(counts.to_numpy().sum()) == 6
    assert int(medians.notna().to_numpy().sum()) == 2


def test_nps_by_wait_quartile_hand_computed() -> None:
    # department a, by wait: (10, 9) (20, 10) | (30, 7) (40, 6) | (50, 3) (60, 9) | (70, 0) (80, 2)
    frame = pd.DataFrame({
        "department_code": ["a"] * 8 + ["b"] * 4 + ["a"],
        "door_to_provider_min": [80, 10, 50, 30, 70, 20, 60, 40, 5, 6, 7, 8, None],
        "nps_score": [2, 9, 3, 7, 0, 10, 9, 6, 10, 10, 10, 10, 0],
    })
    out = shaping.nps_by_wait_quartile(frame, min_cell=2)
    a = out[out["department_code"] == "a"].set_index("wait_quartile")
    assert a["respondents"].tolist() == [2, 2, 2, 2]
    assert a["nps"].tolist() == [100.0, -50.0, 0.0, -100.0]
    assert a.loc[1, "wait_min_from"] == 10 and a.loc[1, "wait_min_to"] == 20
    assert a.loc[4, "wait_min_from"] == 70 and a.loc[4, "wait_min_to"] == 80
    b = out[out["department_code"] == "b"]
    assert b["respondents"].tolist() == [1, 1, 1, 1]
    assert b["nps"].isna().all(), "quartiles of 1 respondent are below min_cell 2: never published"


def test_nps_by_wait_quartile_empty() -> None:
    frame = pd.DataFrame({"department_code": [], "door_to_provider_min": [], "nps_score": []})
    assert shaping.nps_by_wait_quartile(frame).empty


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
