"""A nightly step run without an orchestrator: its time limit and its retries, as the Prefect task
of the same step has them (flows/runner.py builds one from each task when no Prefect API is set).

The step runs in a daemon thread in a copy of the caller's context (log context, run id): a step
over its limit fails the run at once, and a thread still stuck in it never keeps the process alive.
"""

from __future__ import annotations

import contextvars
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any, Generic, ParamSpec, TypeVar

log = logging.getLogger(__name__)

P = ParamSpec("P")
R = TypeVar("R")


class StepTimeout(TimeoutError):
    """A step ran past its time limit (``JOURNEY_TIMEOUTS__<STAGE>``)."""


def is_io_error(error: BaseException | None) -> bool:
    """Extraction retries on I/O errors (flaky share, file still being written), not on bad data or timeouts."""
    return isinstance(error, OSError) and not isinstance(error, TimeoutError)


@dataclass(frozen=True)
class Step(Generic[P, R]):
    """``fn`` with a time limit (seconds, None: none) and ``retries`` on I/O errors after ``delays``."""

    fn: Callable[P, R]
    name: str
    timeout_seconds: float | None = None
    retries: int = 0
    delays: float | Sequence[float] | None = None

    def with_options(self, *, timeout_seconds: float | None) -> Step[P, R]:
        return replace(self, timeout_seconds=timeout_seconds)

    def delay(self, attempt: int) -> float:
        """Seconds to wait before retry number ``attempt`` (0-based)."""
        if self.delays is None:
            return 0.0
        if isinstance(self.delays, int | float):
            return float(self.delays)
        return float(self.delays[min(attempt, len(self.delays) - 1)]) if self.delays else 0.0

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        attempt = 0
        while True:
            try:
                return self._once(*args, **kwargs)
            except Exception as error:
                if attempt >= self.retries or not is_io_error(error):
                    raise
                pause = self.delay(attempt)
                attempt += 1
                log.warning(
                    "step %s failed (%s); retry %d of %d in %.0f s", self.name, error, attempt, self.retries, pause
                )
                time.sleep(pause)

    def _once(self, *args: P.args, **kwargs: P.kwargs) -> R:
        if self.timeout_seconds is None:
            return self.fn(*args, **kwargs)
        outcome: dict[str, Any] = {}
        context = contextvars.copy_context()

        def target() -> None:
            try:
                outcome["value"] = context.run(self.fn, *args, **kwargs)
            except BaseException as error:  # noqa: BLE001 - handed to the caller below
                outcome["error"] = error

        worker = threading.Thread(target=target, name=f"journey-{self.name}", daemon=True)
        worker.start()
        worker.join(self.timeout_seconds)
        if worker.is_alive():
            raise StepTimeout(f"step {self.name} timed out after {self.timeout_seconds:g} s")
        if "error" in outcome:
            raise outcome["error"]
        return outcome["value"]
