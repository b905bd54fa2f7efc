"""The nightly flow's task options (no flow run): the load stage's time limit grows with the run's days."""

from __future__ import annotations

import pytest

from flows.nightly import stage_tasks
from journey.config import Settings


def test_the_load_time_limit_is_the_per_day_limit_times_the_days(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JOURNEY_TIMEOUTS__LOAD", "600")
    tasks = stage_tasks(Settings())
    assert tasks.load_for(1).timeout_seconds == 600
    assert tasks.load_for(5).timeout_seconds == 3000
    assert tasks.load_for(0).timeout_seconds == 600, "a run with no new day (a rebuild) still gets one day"
    assert tasks.load_for(5).retries == tasks.load.retries > 0, "the load task keeps its retries"
    assert tasks.load.timeout_seconds == 600, "the per-day task is unchanged"
