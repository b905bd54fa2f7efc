"""A step run without Prefect keeps its task's time limit and its retries on I/O errors only."""

from __future__ import annotations

import threading
from contextvars import ContextVar

import pytest

from journey.ops.steps import Step, StepTimeout, is_io_error

CURRENT_RUN: ContextVar[str] = ContextVar("current_run", default="none")


def test_a_step_over_its_limit_fails_at_once_with_a_timeout() -> None:
    release = threading.Event()
    step = Step(lambda: release.wait(60), "dbt-staging", timeout_seconds=0.2)
    with pytest.raises(StepTimeout, match="step dbt-staging timed out after 0.2 s") as raised:
        step()
    release.set()
    assert isinstance(raised.value, TimeoutError), "the CLI's hint for timeouts applies"


def test_only_io_errors_are_retried_with_the_tasks_delays() -> None:
    calls: list[int] = []

    def flaky() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise FileNotFoundError("share not mounted")
        return "loaded"

    assert Step(flaky, "load", retries=2, delays=[0.0, 0.0])() == "loaded" and len(calls) == 3
    calls.clear()
    with pytest.raises(FileNotFoundError):
        Step(flaky, "load", retries=1, delays=0.0)()
    assert len(calls) == 2, "one try and one retry, then the error"

    def bad_data() -> None:
        calls.append(1)
        raise ValueError("not a date")

    calls.clear()
    with pytest.raises(ValueError):
        Step(bad_data, "load", retries=5)()
    assert len(calls) == 1, "bad data is not retried"
    assert not is_io_error(StepTimeout("x")) and is_io_error(PermissionError("x"))


@pytest.mark.parametrize(("delays", "expected"), [(None, [0, 0, 0]), (10, [10, 10, 10]), ([10, 20], [10, 20, 20])])
def test_retry_delays_follow_the_task(delays: float | list[float] | None, expected: list[float]) -> None:
    step = Step(lambda: None, "discover", retries=3, delays=delays)
    assert [step.delay(attempt) for attempt in range(3)] == expected


def test_a_timed_step_sees_the_callers_context_and_returns_its_value() -> None:
    CURRENT_RUN.set("20260302T020000-1a2b3c")
    step = Step(lambda: CURRENT_RUN.get(), "plan", timeout_seconds=30)
    assert step() == "20260302T020000-1a2b3c"
    assert step.with_options(timeout_seconds=None).timeout_seconds is None
