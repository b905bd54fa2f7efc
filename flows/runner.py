"""Run a journey flow under Prefect, or as plain Python when no Prefect API is configured.

With ``PREFECT_API_URL`` (or a Prefect profile naming a server), a flow run goes to that server as
usual. Without one, Prefect would start its temporary ("ephemeral") API server for every CLI run
(its start-up cost is in bench/README.md): instead the flow's own function runs and each task
becomes a ``journey.ops.steps.Step`` with the task's time limit and I/O retries. The run is recorded
the same way either way (ops.runs, runs.jsonl, journey.log): journey records its runs itself.

    run_flow(nightly, run_date=day)          # the CLI
    tasks = stage_tasks(settings)            # inside the flow: tasks, or steps in a plain run
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any, ParamSpec, TypeVar, cast

from prefect import Flow, Task
from prefect.settings import PREFECT_API_URL

from journey.ops.steps import Step

log = logging.getLogger(__name__)

P = ParamSpec("P")
R = TypeVar("R")

_PLAIN: ContextVar[bool] = ContextVar("journey_plain_run", default=False)


def prefect_api_configured() -> bool:
    """True when runs report to a Prefect server (PREFECT_API_URL, from the environment or a profile)."""
    return bool(PREFECT_API_URL.value())


def plain() -> bool:
    """True inside a flow run without Prefect (``run_flow`` with no API configured)."""
    return _PLAIN.get()


def step(task: Task[P, R]) -> Task[P, R]:
    """``task`` itself under Prefect; in a plain run its function, with its time limit and retries."""
    if not plain():
        return task
    plain_step = Step(task.fn, task.name, task.timeout_seconds, task.retries or 0, task.retry_delay_seconds)
    return cast(Task[P, R], plain_step)


def optional(task: Task[..., Any], *args: Any) -> None:
    """Run a step whose failure must not fail the run (the dashboard after publish): logged, not raised."""
    if not plain():
        _ = task(*args, return_state=True)
        return
    try:
        _ = step(task)(*args)
    except Exception:  # noqa: BLE001 - as Prefect's return_state: the failure is the step's own
        log.exception("step %s failed; the run's published data stands", task.name)


def subflow(flow: Flow[P, R]) -> Callable[P, R]:
    """A flow called from a flow: a subflow run under Prefect, its function in a plain run."""
    return cast(Callable[P, R], flow.fn) if plain() else flow


def run_flow(flow: Flow[P, R], *args: Any, **kwargs: Any) -> R:
    """Run ``flow`` under Prefect if an API is configured, else as plain Python (see the module doc)."""
    if prefect_api_configured():
        return flow(*args, **kwargs)
    token = _PLAIN.set(True)
    try:
        return cast(Callable[..., R], flow.fn)(*args, **kwargs)
    finally:
        _PLAIN.reset(token)
