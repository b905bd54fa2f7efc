"""Structured logging for every entry point: one line per event, key=value or JSON, to stderr and to
``$JOURNEY_DATA_DIR/logs/journey.log``. Library code only uses ``logging.getLogger(__name__)``.

Every entry point calls ``configure_logging`` (the CLI, the nightly flow's body however Prefect runs
it, tests); a second call for the same log file keeps what the first installed. While a run is on
(``run_logging``), every record of it carries ``run_id``, in the file, on the console and in whatever
handler an orchestrator adds through ``add_handler`` (flows/prefect_logs.py: the Prefect UI).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from pathlib import Path

from journey.config import Settings

_STANDARD = set(vars(logging.makeLogRecord({})).keys()) | {"message", "asctime"}
LOGGER = "journey"

_run_id: ContextVar[str | None] = ContextVar("journey_run_id", default=None)
#: The run of this process, for threads that do not inherit the context (the loader's pool,
#: Prefect's timeout threads): one run at a time holds the run lock.
_process_run: list[str] = []


def current_run_id() -> str | None:
    return _run_id.get() or (_process_run[-1] if _process_run else None)


class RunIdFilter(logging.Filter):
    """Stamp ``run_id`` on every record of the current run (an explicit ``extra`` run_id wins)."""

    def filter(self, record: logging.LogRecord) -> bool:
        run_id = current_run_id()
        if run_id is not None and not hasattr(record, "run_id"):
            record.run_id = run_id
        return True


@contextmanager
def run_logging(run_id: str) -> Iterator[None]:
    """Every journey record logged inside the block carries ``run_id`` (nested runs restore the outer)."""
    token = _run_id.set(run_id)
    _process_run.append(run_id)
    try:
        yield
    finally:
        _process_run.pop()
        _run_id.reset(token)


class Formatter(logging.Formatter):
    """``json``: one JSON object per line (the log file); ``text``: time, level, logger, message and
    the extras as key=value; ``message``: the message and extras only (for a UI that shows the rest)."""

    def __init__(self, style: str = "text", omit: Collection[str] = ()) -> None:
        super().__init__()
        self.style = style
        self.omit = _STANDARD | set(omit)

    def format(self, record: logging.LogRecord) -> str:
        fields = {key: value for key, value in vars(record).items() if key not in self.omit}
        stamp = datetime.fromtimestamp(record.created, UTC).isoformat(timespec="seconds")
        if self.style == "json":
            payload = {"ts": stamp, "level": record.levelname, "logger": record.name, "msg": record.getMessage()}
            payload.update(fields)
            return json.dumps(payload, default=str, ensure_ascii=False)
        extras = " ".join(f"{key}={value}" for key, value in fields.items())
        line = record.getMessage() + (f" | {extras}" if extras else "")
        return line if self.style == "message" else f"{stamp} {record.levelname:<7} {record.name}: {line}"


class _Console(logging.StreamHandler):
    """journey's console handler (marked, so a second configure_logging finds it)."""


class _File(logging.FileHandler):
    """journey's log-file handler."""


def add_handler(handler: logging.Handler) -> None:
    """Attach ``handler`` to journey's logger with the run-id filter (an orchestrator's log sink)."""
    handler.addFilter(RunIdFilter())
    logging.getLogger(LOGGER).addHandler(handler)


def configure_logging(settings: Settings, *, verbose: bool = False) -> None:
    """Console (warnings; with ``verbose`` every step) and the JSON log file, both with the run id.

    Idempotent for one log file: the flow body calling it after the CLI keeps the CLI's handlers
    (and its ``--verbose``); handlers journey did not install (e.g. an orchestrator's) are kept.
    """
    root = logging.getLogger(LOGGER)
    root.propagate = False
    path = (settings.log_dir / "journey.log").resolve()
    ours = [handler for handler in root.handlers if isinstance(handler, _Console | _File)]
    if any(isinstance(handler, _File) and Path(handler.baseFilename) == path for handler in ours):
        if verbose:
            root.setLevel(logging.DEBUG)
            for handler in ours:
                if isinstance(handler, _Console):
                    handler.setLevel(logging.INFO)
        return
    for handler in ours:
        root.removeHandler(handler)
        handler.close()
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    console = _Console()
    console.setFormatter(Formatter("json" if settings.log_format == "json" else "text"))
    console.setLevel(logging.INFO if verbose else logging.WARNING)
    add_handler(console)
    settings.log_dir.mkdir(parents=True, exist_ok=True)
    file = _File(path, encoding="utf-8")
    file.setFormatter(Formatter("json"))
    add_handler(file)
