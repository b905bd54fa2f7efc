"""The frame around every nightly run: one writer at a time, clean up after killed runs, and make a
failure loud (recorded, working copy discarded, webhook alert) without ever masking it.

    with guarded_run(settings, summary):
        ... plan, load, build, publish ...
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date

from journey.config import Settings
from journey.ops.alerts import Alert, send_alert
from journey.ops.lock import RunInProgress, RunLock, acquire_run_lock, lend
from journey.ops.runlog import INTERRUPTED_REASON, mark_interrupted
from journey.runs import RunSummary, record_run
from journey.warehouse.publish import discard_working_copy, recover_leftovers

log = logging.getLogger(__name__)


def describe(error: BaseException) -> str:
    """A one-paragraph reason: the error's type when its message alone would be cryptic."""
    text = str(error).strip()
    name = type(error).__name__
    if not text:
        return name
    return text if name in {"ValidationFailed", "BuildFailed", "LandingError", "ConfigError"} else f"{name}: {text}"


def _best_effort(what: str, step: Callable[[], object]) -> None:
    try:
        step()
    except Exception:  # noqa: BLE001 - bookkeeping must never replace the run's own error
        log.exception("while handling a failed run, could not %s", what)


def alert_for(summary: RunSummary) -> Alert:
    return Alert(run_id=summary.run_id, run_date=summary.run_date.isoformat(), stage=summary.stage,
                 reason=summary.reason or "", status=summary.status)


def recover(settings: Settings) -> None:
    """Clean up after runs that died without finishing (call while holding the run lock)."""
    recover_leftovers(settings)
    for run in mark_interrupted(settings):
        send_alert(settings, Alert(run_id=str(run["run_id"]), run_date=str(run["run_date"]),
                                   stage=str(run["stage"]) if run["stage"] else None,
                                   reason=INTERRUPTED_REASON, status="interrupted"))


def fail_run(settings: Settings, summary: RunSummary, error: BaseException) -> None:
    """Record the failure, discard the working copy, alert. Each step is independent and best effort."""
    summary.finish("failed", describe(error)[:4000])
    log.error("run %s failed at stage %s: %s", summary.run_id, summary.stage, summary.reason)
    _best_effort("record the run", lambda: record_run(settings, summary))
    _best_effort("discard the working copy", lambda: discard_working_copy(settings))
    _best_effort("send the alert", lambda: send_alert(settings, alert_for(summary)))


def _lock_or_alert(
    settings: Settings, summary: RunSummary, on_wait: Callable[[str, float], None] | None = None,
    holder: str | None = None,
) -> RunLock:
    """The run lock for ``summary``'s run (``holder``: the lock file's run id, default the summary's);
    a run that cannot get it alerts (and raises RunInProgress)."""
    try:
        return acquire_run_lock(settings, summary.run_id if holder is None else holder, on_wait=on_wait)
    except RunInProgress as error:
        # Not ours to clean up or record: the other run owns the working copy and the run log.
        summary.stage = "lock"
        summary.finish("failed", describe(error))
        send_alert(settings, alert_for(summary))
        raise


@contextmanager
def run_lock(
    settings: Settings, run_date: date | None, *, on_wait: Callable[[str, float], None] | None = None
) -> Iterator[None]:
    """Hold the run lock around a whole command (the CLI's run and backfill), taken before anything
    starts an orchestrator: the flow's own ``guarded_run`` then finds it held by this process."""
    # no run id yet (the flow names its run): the lock file says a run is starting, until the flow's guard
    lock = _lock_or_alert(settings, RunSummary.begin(run_date), on_wait, holder="")
    try:
        with lend(lock):
            yield
    finally:
        lock.release()


@contextmanager
def guarded_run(settings: Settings, summary: RunSummary) -> Iterator[None]:
    """Hold the run lock for the body; on any failure record it, discard the working copy and alert."""
    lock = _lock_or_alert(settings, summary)
    try:
        summary.stage = "recover"
        recover(settings)
        yield
    except BaseException as error:
        fail_run(settings, summary, error)
        raise
    finally:
        lock.release()
