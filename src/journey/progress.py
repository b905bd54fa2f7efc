"""Progress bars for the long commands (generate, run, backfill, replay): on stderr, and only when
stderr is a terminal, so logs, CI and cron output stay clean. A bar shows stage names, drop days,
counts and elapsed time — never patient data.

A nightly run is followed through journey's own log events (``follow_runs``): the flow stays
orchestrator code that knows nothing about terminals, and the CLI draws what the library reports.

    days = split_runs(pending_days(settings), per_run=None)
    with progress("loading", total=100 * len(days), unit="%") as bar, follow_runs(bar, days):
        nightly(...)
"""

from __future__ import annotations

import io
import logging
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import date
from typing import IO, TYPE_CHECKING, Protocol, cast

import duckdb

from journey.config import Settings
from journey.errors import JourneyError

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress, Task, TaskID


class Bar(Protocol):
    """What commands and followers drive; the no-op bar and the rich bar both satisfy it."""

    def advance(self, steps: int = 1) -> None: ...

    def describe(self, text: str) -> None: ...


class _NoBar:
    def advance(self, steps: int = 1) -> None:
        pass

    def describe(self, text: str) -> None:
        pass


def bars_enabled(stream: IO[str] | None = None) -> bool:
    """True when ``stream`` (default stderr) is an interactive terminal that can redraw a line."""
    stream = stream if stream is not None else sys.stderr
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty()) and os.environ.get("TERM", "") != "dumb"


@contextmanager
def _console_logs_to(target: IO[str], original: IO[str]) -> Iterator[None]:
    """Point console log handlers that write to ``original`` at ``target`` (so log lines print above the
    live bar instead of through it); restore them afterwards."""
    loggers = [logging.getLogger()] + [
        item for item in logging.Logger.manager.loggerDict.values() if isinstance(item, logging.Logger)
    ]
    moved: list[logging.StreamHandler[IO[str]]] = []
    for logger in loggers:
        for handler in logger.handlers:
            if (isinstance(handler, logging.StreamHandler) and not isinstance(handler, logging.FileHandler)
                    and handler.stream is original):
                handler.setStream(target)
                moved.append(handler)
    try:
        yield
    finally:
        for handler in moved:
            handler.setStream(original)


class _RichBar:
    def __init__(self, bar: Progress, task: TaskID) -> None:
        self._bar = bar
        self._task = task

    def advance(self, steps: int = 1) -> None:
        task = next(item for item in self._bar.tasks if item.id == self._task)
        completed = task.completed + steps
        # The total is an estimate: never let the count run past it.
        total = None if task.total is None else max(task.total, completed)
        self._bar.update(self._task, completed=completed, total=total)

    def describe(self, text: str) -> None:
        self._bar.update(self._task, description=text)


@contextmanager
def progress(
    description: str, total: int | None, *, unit: str, stream: IO[str] | None = None, enabled: bool = True
) -> Iterator[Bar]:
    """A transient bar on ``stream`` (default stderr) counting ``unit`` up to ``total`` (None or 0: no
    known total, the bar pulses; unit ``%``: shown as a percentage); a no-op bar when not ``enabled``
    or the stream is not a terminal."""
    target = stream if stream is not None else sys.stderr
    if not enabled or not bars_enabled(target):
        yield _NoBar()
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TaskProgressColumn, TextColumn
    from rich.text import Text

    class Busy(SpinnerColumn):
        """Spins until the command ends: the last counted step (a day) is not the end of the work."""

        def render(self, task: Task) -> Text:
            return cast(Text, self.spinner.render(task.get_time()))

    class Elapsed(TextColumn):
        """Time since the bar appeared (a task's own clock stops when its count is complete)."""

        def __init__(self) -> None:
            super().__init__("")
            self.began = time.monotonic()

        def render(self, task: Task) -> Text:
            minutes, seconds = divmod(int(time.monotonic() - self.began), 60)
            return Text(f"{minutes // 60}:{minutes % 60:02d}:{seconds:02d}", style="progress.elapsed")

    console = Console(file=target, stderr=target is sys.stderr)
    count = (TaskProgressColumn(),) if unit == "%" else (MofNCompleteColumn(), TextColumn(unit))
    columns = (Busy(), TextColumn("{task.description}"), BarColumn(), *count, Elapsed())
    with Progress(*columns, console=console, transient=True, redirect_stdout=False, redirect_stderr=False) as bar, \
            _console_logs_to(cast(IO[str], _LiveWriter(console)), target):
        task = bar.add_task(description, total=total or None)
        yield _RichBar(bar, task)


class _LiveWriter(io.TextIOBase):
    """A text stream that prints whole lines above a live display (for log handlers)."""

    def __init__(self, console: Console) -> None:
        super().__init__()
        self._console = console
        self._buffer = ""

    def write(self, text: str) -> int:
        self._buffer += text
        *lines, self._buffer = self._buffer.split("\n")
        for line in lines:
            self._console.print(line, markup=False, highlight=False, soft_wrap=True)
        return len(text)


# ---------------------------------------------------------------------------------------------------
# following nightly runs through journey's log events
# ---------------------------------------------------------------------------------------------------
#: Where a nightly run is, in % of its work, once each milestone is behind it: the stages weighted by
#: the time they take in a measured 1-day run (bench/README.md, "Small night").
#: Loading moves from 0 to LOADED day by day; a run ends at 100 whatever it skipped.
LOADED = 10
MILESTONES = {"validated landing": 15, "staged": 40, "validated staging": 50, "built": 80,
              "validated marts": 85, "docs": 98}


class RunFollower(logging.Handler):
    """Moves a bar from the events a nightly run logs: files and days loaded, dbt steps, checks,
    publish, run end. Reads only counts, dates and stage names from the records.

    The bar counts % of the work, 100 per run, weighted by stage (MILESTONES): it does not reach the
    end when the last day is loaded, with the gates, dbt and docs still to come. ``days_per_run``
    says how many drop days each run loads (a backfill runs several)."""

    def __init__(self, bar: Bar, days_per_run: list[int] | None = None) -> None:
        super().__init__(level=logging.INFO)
        self.bar = bar
        self.days_per_run = days_per_run or []
        self.files = 0
        self.rows = 0
        self.days = 0
        self.runs = 0
        self._run_days = 0  # days loaded by the current run
        self._at = 0  # % of the current run behind it
        self._milestones: set[str] = set()

    def emit(self, record: logging.LogRecord) -> None:
        with suppress(Exception):  # a progress bar must never break a run
            self._follow(record.name, str(record.msg), record)

    def _prefix(self) -> str:
        return f"run {self.runs + 1}: " if self.runs else ""

    def _move_to(self, percent: int) -> None:
        """Advance the bar to ``percent`` of the current run (never back)."""
        if percent > self._at:
            self.bar.advance(percent - self._at)
            self._at = percent

    def _reach(self, milestone: str) -> None:
        self._milestones.add(milestone)
        self._move_to(MILESTONES[milestone])

    def _follow(self, logger: str, template: str, record: logging.LogRecord) -> None:
        args = record.args if isinstance(record.args, tuple) else ()
        if logger == "journey.ingest.loader" and template == "loaded file":
            self.files += 1
            self.rows += int(getattr(record, "rows_read", 0) or 0)
            self.bar.describe(f"{self._prefix()}loading: {self.files:,} files, {self.rows:,} rows")
        elif logger == "journey.runs" and template.startswith("loaded day") and args:
            self.days += 1
            self._run_days += 1
            planned = self.days_per_run[self.runs] if self.runs < len(self.days_per_run) else self._run_days
            self._move_to(LOADED * min(self._run_days, planned) // max(planned, 1))
            self.bar.describe(f"{self._prefix()}loaded {args[0]}")
        elif logger == "journey.transform.dbt" and template == "dbt %s" and args:
            self.bar.describe(f"{self._prefix()}dbt {str(args[0]).split(' --', 1)[0]}")
        elif logger == "journey.transform.dbt" and template == "dbt %s done" and args:
            if args[0] == "docs":
                self._reach("docs")
            else:  # the staging build comes before the staging gate, the full build after it
                self._reach("built" if "validated staging" in self._milestones else "staged")
        elif logger == "journey.transform.dbt" and template.startswith("dbt docs site is current"):
            self._reach("docs")
        elif logger == "journey.quality.gate" and template.startswith("validated") and args:
            if f"validated {args[0]}" in MILESTONES:
                self._reach(f"validated {args[0]}")
            self.bar.describe(f"{self._prefix()}checked {args[0]}")
        elif logger == "journey.warehouse.publish" and template.startswith("published"):
            self.bar.describe(f"{self._prefix()}published")
        elif logger == "journey.runs" and template == "run %s %s":
            self._move_to(100)
            self.runs += 1
            self._run_days, self._at, self._milestones = 0, 0, set()
            self.bar.describe(f"run {self.runs} finished")


@contextmanager
def follow_runs(bar: Bar, days_per_run: list[int] | None = None) -> Iterator[RunFollower]:
    """Attach a RunFollower to journey's loggers for the body."""
    follower = RunFollower(bar, days_per_run)
    logger = logging.getLogger("journey")
    logger.addHandler(follower)
    try:
        yield follower
    finally:
        logger.removeHandler(follower)


def pending_days(
    settings: Settings, *, run_date: date | None = None, start: date | None = None, end: date | None = None
) -> int | None:
    """How many drop days a run or backfill will load, as ``journey.runs.plan_run`` plans them (late files
    for an earlier day count that day); None when the plan fails — the bar then has no total, and the
    run itself reports the cause."""
    from journey.runs import plan_run

    try:
        return len(plan_run(settings, run_date, start=start, end=end).days)
    except (JourneyError, OSError, duckdb.Error):
        return None


def split_runs(days: int | None, per_run: int | None) -> list[int]:
    """Drop days per run of a command that loads ``days`` days, ``per_run`` at most in each run (a
    backfill; None: one run). One run even with no day to load (it still checks and may rebuild)."""
    if not days:
        return [0]
    size = per_run or days
    return [min(size, days - first) for first in range(0, days, size)]
