"""Standardised regression coefficients against hand-computed and textbook values."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from journey.report.drivers import _t_quantile, driver_table, standardised_ols


def test_standardised_betas_hand_computed() -> None:
    # x1 and x2 are uncorrelated; y = x1 + x2 exactly, so beta_i = sd(x_i) / sd(y):
    # sd(x1) = sqrt(5/3), sd(x2) = sqrt(4/3), sd(y) = sqrt(3) → sqrt(5)/3 and 2/3, R² = 1, zero error.
    frame = pd.DataFrame({"x1": [1, 2, 3, 4], "x2": [1, -1, -1, 1], "y": [2, 1, 2, 5]})
    fit = standardised_ols(frame, "y", ["x1", "x2"])
    assert fit is not None
    betas = fit.coefficients.set_index("driver")["beta"]
    assert betas["x1"] == pytest.approx(math.sqrt(5) / 3)
    assert betas["x2"] == pytest.approx(2 / 3)
    assert fit.r_squared == pytest.approx(1.0)
    assert fit.coefficients["std_error"].tolist() == pytest.approx([0.0, 0.0], abs=1e-9)
    assert fit.n == 4


def test_single_driver_beta_is_the_correlation_with_its_textbook_standard_error() -> None:
    rng = np.random.default_rng(3)
    x = rng.normal(size=500)
    y = 0.4 * x + rng.normal(size=500)
    fit = standardised_ols(pd.DataFrame({"x": x, "y": y}), "y", ["x"])
    assert fit is not None
    row = fit.coefficients.iloc[0]
    r = float(np.corrcoef(x, y)[0, 1])
    assert row["beta"] == pytest.approx(r)
    assert row["std_error"] == pytest.approx(math.sqrt((1 - r * r) / (500 - 2)))
    assert row["ci_low"] < row["beta"] < row["ci_high"]
    assert row["ci_high"] - row["beta"] == pytest.approx(_t_quantile(498) * row["std_error"])


def test_constant_driver_is_dropped_and_tiny_groups_are_not_fitted() -> None:
    frame = pd.DataFrame({"x": [1.0, 2, 3, 4, 5], "c": [7.0] * 5, "y": [1.0, 3, 2, 5, 4]})
    fit = standardised_ols(frame, "y", ["x", "c"])
    assert fit is not None and fit.coefficients["driver"].tolist() == ["x"]
    assert standardised_ols(frame.head(2), "y", ["x"]) is None


@pytest.mark.parametrize(("df", "expected"), [(10, 2.228139), (30, 2.042272), (1000, 1.962339)])
def test_t_quantile(df: int, expected: float) -> None:
    assert _t_quantile(df) == pytest.approx(expected, abs=2e-3)


def test_driver_table_per_department_quarter_and_minimum_size() -> None:
    rng = np.random.default_rng(5)
    n = 120
    frame = pd.DataFrame({
        "department_code": ["a"] * n + ["b"] * 5,
        "quarter": ["2026Q1"] * (n + 5),
        "door_to_provider_min": rng.uniform(5, 120, n + 5),
        "cleanliness": rng.integers(1, 5, n + 5).astype(float),
    })
    frame["nps_score"] = (10 - frame["door_to_provider_min"] / 20 + rng.normal(0, 1, n + 5)).clip(0, 10)
    frame["is_overall_top_box"] = (frame["nps_score"] >= 8).astype(float)
    table = driver_table(frame, min_cell=11)
    assert set(table["department_code"]) == {"a"}, "b has 5 respondents: not fitted"
    assert set(table["outcome"]) == {"nps_score", "is_overall_top_box"}
    wait = table[(table["outcome"] == "nps_score") & (table["driver"] == "door_to_provider_min")].iloc[0]
    assert wait["beta"] < -0.5 and wait["ci_high"] < 0, "longer waits clearly lower the score"
    assert wait["n"] == n


def _synthetic_table() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    frames = []
    for department, n in (("emergency", 150), ("cardiology", 300)):
        frame = pd.DataFrame({
            "department_code": department, "quarter": "2026Q1",
            "door_to_provider_min": rng.uniform(5, 120, n), "cleanliness": rng.integers(1, 5, n).astype(float),
        })
        frame["nps_score"] = 10 - frame["door_to_provider_min"] / 20 + rng.normal(0, 1, n)
        frame["is_overall_top_box"] = (frame["nps_score"] >= 8).astype(float)
        frames.append(frame)
    return driver_table(pd.concat(frames, ignore_index=True))


def test_driver_figure_shows_the_largest_group_first_with_a_menu() -> None:
    from journey.report.charts import Context, driver_figure

    figure = driver_figure(_synthetic_table(), Context(min_cell=11, timezone="UTC", names={"cardiology": "Cardio"}))
    assert len(figure.data) == 4  # 2 groups × 2 outcomes
    visible = [trace.name for trace in figure.data if trace.visible]
    assert len(visible) == 2 and all("n = 300" in name for name in visible), "cardiology (n = 300) first"
    labels = [button["label"] for button in figure.layout.updatemenus[0].buttons]
    assert labels == ["Cardio · 2026Q1", "emergency · 2026Q1"]
    first = figure.data[0]
    assert list(first.error_x.array) == pytest.approx(list(np.asarray(first.error_x.arrayminus)))  # symmetric CI
