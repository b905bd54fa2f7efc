"""The dbt vars journey passes come from its settings, and dbt_project.yml's defaults match them (a
dbt run outside journey — dbt docs, an analyst's `dbt build` — uses the same rules)."""

from __future__ import annotations

from datetime import date

import pytest
import yaml

from journey.config import Settings
from journey.transform.dbt import dbt_vars


def test_dbt_project_defaults_match_the_settings_defaults(settings: Settings) -> None:
    project = yaml.safe_load((settings.project_dir / "dbt_project.yml").read_text(encoding="utf-8"))
    passed = dbt_vars(settings)
    assert set(passed) == {"timezone", "min_cell_size", "late_lookback_days", "max_wait_hours",
                           "department_sources", "code_map_path", "code_map_fingerprint",
                           "earliest_plausible_date", "latest_plausible_date"}
    for name, value in passed.items():
        assert project["vars"][name] == value, name


def test_dbt_vars_follow_the_settings(settings: Settings) -> None:
    tuned = settings.model_copy(update={
        "min_cell_size": 5, "thresholds": settings.thresholds.model_copy(update={"max_wait_hours": 24.0}),
    })
    assert dbt_vars(tuned)["max_wait_hours"] == 24.0
    assert dbt_vars(tuned)["min_cell_size"] == 5
    assert dbt_vars(tuned, {"min_cell_size": 1})["min_cell_size"] == 1  # a caller's override wins
    window = settings.model_copy(update={"thresholds": settings.thresholds.model_copy(
        update={"earliest_plausible_date": date(2015, 6, 1)})})
    assert dbt_vars(window)["earliest_plausible_date"] == "2015-06-01"
    ordered = settings.model_copy(update={"department_sources": "location,serviceProvider"})
    assert dbt_vars(ordered)["department_sources"] == ["location", "serviceProvider"]


@pytest.mark.parametrize(("earliest", "latest"), [
    ("1500-01-01", "2200-01-01"),  # before pandas' nanosecond range: the gate's frames could not hold it
    ("2000-01-01", "2300-01-01"),  # after it
    ("2030-01-01", "2020-01-01"),  # an empty window
])
def test_the_plausible_window_must_be_a_window_pandas_can_hold(
    monkeypatch: pytest.MonkeyPatch, earliest: str, latest: str
) -> None:
    monkeypatch.setenv("JOURNEY_THRESHOLDS__EARLIEST_PLAUSIBLE_DATE", earliest)
    monkeypatch.setenv("JOURNEY_THRESHOLDS__LATEST_PLAUSIBLE_DATE", latest)
    with pytest.raises(ValueError, match="earliest_plausible_date < latest_plausible_date"):
        Settings()
