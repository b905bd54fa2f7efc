"""The driver models (statsmodels) against hand-computed values and textbook cases: the right model
and standard-error type for each outcome, coefficient signs, and the groups left unfitted."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from journey.report.drivers import COLUMNS, driver_table, fit, fit_logit, fit_ols_hc3


def test_ols_betas_hand_computed_with_hc3_errors() -> None:
    # x1 and x2 are uncorrelated; y = x1 + x2 exactly, so beta_i = sd(x_i) / sd(y):
    # sd(x1) = sqrt(5/3), sd(x2) = sqrt(4/3), sd(y) = sqrt(3) → sqrt(5)/3 and 2/3, R² = 1, zero error.
    frame = pd.DataFrame({"x1": [1, 2, 3, 4], "x2": [1, -1, -1, 1], "y": [2, 1, 2, 5]})
    result = fit_ols_hc3(frame, "y", ["x1", "x2"])
    assert result is not None and result.method == "ols_hc3" and result.se_type == "HC3"
    betas = result.coefficients.set_index("driver")["estimate"]
    assert betas["x1"] == pytest.approx(math.sqrt(5) / 3)
    assert betas["x2"] == pytest.approx(2 / 3)
    assert result.goodness_of_fit == pytest.approx(1.0)
    assert result.n == 4


def test_ols_hc3_standard_error_equals_the_hand_computed_sandwich() -> None:
    # One driver: z-scored x and y, residuals e, leverages h_i = 1/n + z_i² / Σz²;
    # HC3 var(β) = Σ z_i² e_i² / (1 - h_i)² / (Σz²)² — not the classical σ² / Σz².
    x = np.array([1.0, 2, 3, 4, 5, 6, 7, 8])
    y = np.array([1.0, 1, 2, 2, 4, 3, 7, 9])  # variance grows with x: HC3 and classical differ
    result = fit_ols_hc3(pd.DataFrame({"x": x, "y": y}), "y", ["x"])
    assert result is not None
    zx = (x - x.mean()) / x.std(ddof=1)
    zy = (y - y.mean()) / y.std(ddof=1)
    beta = (zx @ zy) / (zx @ zx)
    residuals = zy - beta * zx
    leverage = 1 / len(x) + zx**2 / (zx @ zx)
    hc3 = math.sqrt(float(np.sum(zx**2 * residuals**2 / (1 - leverage) ** 2)) / float(zx @ zx) ** 2)
    classical = math.sqrt(float(residuals @ residuals) / (len(x) - 2) / float(zx @ zx))
    row = result.coefficients.iloc[0]
    assert row["estimate"] == pytest.approx(beta)
    assert row["std_error"] == pytest.approx(hc3)
    assert abs(row["std_error"] - classical) > 0.01, "robust, not the classical error"


def test_logit_recovers_the_sign_and_reports_mle_errors() -> None:
    rng = np.random.default_rng(11)
    wait = rng.uniform(5, 120, 2000)
    clean = rng.integers(1, 5, 2000).astype(float)
    # log-odds fall 1.0 per SD of wait and rise 0.5 per SD of cleanliness
    logit = 0.3 - 1.0 * (wait - wait.mean()) / wait.std(ddof=1) + 0.5 * (clean - clean.mean()) / clean.std(ddof=1)
    top_box = (rng.uniform(size=2000) < 1 / (1 + np.exp(-logit))).astype(float)
    frame = pd.DataFrame({"wait": wait, "clean": clean, "top": top_box})
    result = fit_logit(frame, "top", ["wait", "clean"])
    assert result is not None and result.method == "logit" and result.se_type == "nonrobust"
    coefficients = result.coefficients.set_index("driver")
    assert coefficients.loc["wait", "estimate"] == pytest.approx(-1.0, abs=0.15)
    assert coefficients.loc["wait", "ci_high"] < 0 < coefficients.loc["clean", "ci_low"]
    assert coefficients.loc["clean", "estimate"] == pytest.approx(0.5, abs=0.15)
    # Wald interval: estimate ± z(0.975) × SE
    wald = coefficients.loc["wait", "estimate"] + 1.959963984540054 * coefficients.loc["wait", "std_error"]
    assert coefficients.loc["wait", "ci_high"] == pytest.approx(wald)
    assert 0 < result.goodness_of_fit < 1  # McFadden's pseudo R²


def test_fit_picks_logistic_for_top_box_and_ols_for_the_score() -> None:
    rng = np.random.default_rng(2)
    x = rng.normal(size=300)
    frame = pd.DataFrame({"x": x, "nps_score": 7 + x + rng.normal(size=300)})
    frame["is_overall_top_box"] = (frame["nps_score"] >= 8).astype(float)
    assert fit(frame, "is_overall_top_box", ["x"]).method == "logit"  # type: ignore[union-attr]
    assert fit(frame, "nps_score", ["x"]).method == "ols_hc3"  # type: ignore[union-attr]


def test_perfect_separation_and_constant_drivers_are_not_fitted() -> None:
    separated = pd.DataFrame({"x": [1.0, 2, 3, 4, 5, 6], "y": [0.0, 0, 0, 1, 1, 1]})
    assert fit_logit(separated, "y", ["x"]) is None
    frame = pd.DataFrame({"x": [1.0, 2, 3, 4, 5], "c": [7.0] * 5, "y": [1.0, 3, 2, 5, 4]})
    result = fit_ols_hc3(frame, "y", ["x", "c"])
    assert result is not None and result.coefficients["driver"].tolist() == ["x"]
    assert fit_ols_hc3(frame.head(2), "y", ["x"]) is None


def _respondents(rng: np.random.Generator, sizes: dict[str, int]) -> pd.DataFrame:
    frames = []
    for department, n in sizes.items():
        frame = pd.DataFrame({
            "department_code": department, "visit_quarter": "2026Q1",
            "door_to_provider_min": rng.uniform(5, 120, n), "cleanliness_score": rng.integers(1, 5, n).astype(float),
        })
        frame["nps_score"] = (10 - frame["door_to_provider_min"] / 20 + rng.normal(0, 1.5, n)).clip(0, 10)
        frame["is_overall_top_box"] = (frame["nps_score"] + rng.normal(0, 1, n) >= 8).astype(float)
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def test_driver_table_per_department_quarter_and_minimum_size() -> None:
    table = driver_table(_respondents(np.random.default_rng(5), {"a": 120, "b": 5}), min_cell=11)
    assert list(table.columns) == list(COLUMNS)
    assert set(table["department_code"]) == {"a"}, "b has 5 respondents: not fitted"
    assert set(zip(table["outcome"], table["method"], table["se_type"], strict=True)) == {
        ("nps_score", "ols_hc3", "HC3"), ("is_overall_top_box", "logit", "nonrobust")}
    for outcome in ("nps_score", "is_overall_top_box"):
        wait = table[(table["outcome"] == outcome) & (table["driver"] == "door_to_provider_min")].iloc[0]
        assert wait["estimate"] < 0 and wait["ci_high"] < 0, f"longer waits clearly lower {outcome}"
        assert wait["n"] == 120


def test_driver_figure_states_the_methods_and_shows_the_largest_group_first() -> None:
    from journey.report.charts import Context, driver_figure
    from journey.report.messages import t

    table = driver_table(_respondents(np.random.default_rng(7), {"emergency": 150, "cardiology": 300}))
    figure = driver_figure(table, Context(min_cell=11, timezone="UTC", names={"cardiology": "Cardio"}))
    assert len(figure.data) == 4  # 2 groups × 2 models
    visible = [trace.name for trace in figure.data if trace.visible]
    assert len(visible) == 2 and all("n = 300" in name for name in visible), "cardiology (n = 300) first"
    labels = [button["label"] for button in figure.layout.updatemenus[0].buttons]
    assert labels == ["Cardio · 2026Q1", "emergency · 2026Q1"]
    titles = [annotation.text for annotation in figure.layout.annotations]
    assert t("drivers.ols_hc3", "en") in titles and t("drivers.logit", "en") in titles
    assert figure.layout.xaxis2.type == "log"
    logit_trace = next(t for t in figure.data if t.visible and t.xaxis == "x2")
    row = table[(table["department_code"] == "cardiology") & (table["method"] == "logit")].iloc[::-1]
    assert list(logit_trace.x) == pytest.approx(list(np.exp(row["estimate"])))  # odds ratios
    assert list(np.asarray(logit_trace.x) + np.asarray(logit_trace.error_x.array)) == pytest.approx(
        list(np.exp(row["ci_high"])))


def test_driver_figure_speaks_the_page_language() -> None:
    from journey.report.charts import Context, driver_figure

    table = driver_table(_respondents(np.random.default_rng(7), {"emergency": 150}))
    figure = driver_figure(table, Context(min_cell=11, timezone="Asia/Shanghai", language="zh-CN"))
    titles = [annotation.text for annotation in figure.layout.annotations]
    assert titles == ["NPS 评分：OLS，HC3 稳健标准误", "总体高分：逻辑回归"]
    assert "到院至接诊（分钟）" in next(trace for trace in figure.data if trace.visible).y
