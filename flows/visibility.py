"""What a nightly run shows in Prefect: its name is journey's run id, journey's log lines reach the
run's logs (with the run id), and its summary and failed checks become artifacts.

Everything here is a no-op without a Prefect run context (the flow body called directly, ``.fn``):
the same lines are in journey.log and the same summary in logs/runs/<run_id>/summary.md.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.context import FlowRunContext, get_run_context
from prefect.exceptions import MissingContextError
from prefect.logging.handlers import APILogHandler

from journey import logs
from journey.config import Settings
from journey.console import run_markdown
from journey.ops import evidence
from journey.runs import RunSummary, new_run_id

log = logging.getLogger(__name__)

SUMMARY_KEY = "journey-run-summary"
CHECKS_KEY = "journey-run-checks"
#: Attributes Prefect's handler reads from a record; not journey's extras (kept off the message).
_PREFECT_FIELDS = {"flow_run_id", "task_run_id", "worker_id", "send_to_api"}


def run_name() -> str:
    """The flow-run name: a fresh journey run id (the flow body takes it over, ``current_run_id``)."""
    return new_run_id()


def current_run_id() -> str | None:
    """This flow run's name when Prefect runs the flow (it is journey's run id), else None."""
    context = FlowRunContext.get()
    return context.flow_run.name if context is not None and context.flow_run is not None else None


class _RunLogHandler(APILogHandler):
    """Prefect's API handler for journey's logger: a record from a thread without the run context
    (the loader's pool) is filed under this flow run instead of being dropped with a warning."""

    def __init__(self, flow_run_id: str) -> None:
        super().__init__()
        self.flow_run_id = flow_run_id
        self.setFormatter(logs.Formatter("message", omit=_PREFECT_FIELDS))

    def emit(self, record: logging.LogRecord) -> None:
        if not getattr(record, "flow_run_id", None):
            try:
                get_run_context()
            except MissingContextError:
                record = logging.makeLogRecord({**vars(record), "flow_run_id": self.flow_run_id})
        super().emit(record)


@contextmanager
def run_logs_in_prefect() -> Iterator[None]:
    """For the block, journey's records also go to the current flow run's logs in the Prefect API.
    Replaces any Prefect handler already on journey's logger (PREFECT_LOGGING_EXTRA_LOGGERS, an outer
    flow's), so each line is sent once, to the innermost run, and restores them after."""
    context = FlowRunContext.get()
    if context is None or context.flow_run is None:
        yield
        return
    logger = logging.getLogger(logs.LOGGER)
    previous = [handler for handler in logger.handlers if isinstance(handler, APILogHandler)]
    for handler in previous:
        logger.removeHandler(handler)
    ours = _RunLogHandler(str(context.flow_run.id))
    logs.add_handler(ours)
    try:
        yield
    finally:
        logger.removeHandler(ours)
        for handler in previous:
            logger.addHandler(handler)


def publish_artifacts(settings: Settings, summary: RunSummary) -> None:
    """The run's markdown summary and the table of its failed or warned checks (file, row, rule) as
    artifacts of the current flow run; best effort (an artifact never fails a run)."""
    if FlowRunContext.get() is None:
        return
    try:
        create_markdown_artifact(run_markdown(summary, settings), key=SUMMARY_KEY,
                                 description=f"journey run {summary.run_id}: {summary.status}")
        checks = evidence.failed_checks(settings, summary.run_id)
        create_table_artifact(checks, key=CHECKS_KEY,
                              description=f"{len(checks)} failed or warned check(s) of run {summary.run_id}")
    except Exception as error:  # noqa: BLE001 - the run's outcome stands whatever the API says
        log.warning("could not publish the artifacts of run %s: %s", summary.run_id, error)
