"""One writer at a time: an exclusive lock on ``warehouse/.run.lock`` held for a whole run.

The lock is an OS advisory lock (``flock``), not the file's existence: the kernel releases it when
the holding process ends, however it ends (``kill -9`` included), so a killed run never leaves a
stale lock for anyone to clean up. The file itself stays; it only says who holds (or last held) it.
The Prefect deployment also has a concurrency limit of 1; this lock additionally covers CLI runs
and a second `journey serve`.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from journey.config import Settings
from journey.errors import JourneyError

log = logging.getLogger(__name__)


class RunInProgress(JourneyError):
    """Another run holds the warehouse lock."""

    exit_code = 3
    hint = "Scheduled runs wait their turn (JOURNEY_RUN_LOCK_WAIT_SECONDS, default 600); `journey info` shows the logs."


def lock_path(settings: Settings) -> Path:
    return settings.warehouse_dir / ".run.lock"


def describe_holder(text: str) -> str:
    """The lock file's record as words: ``run <id> (pid <pid>, since <time>)``."""
    try:
        holder = json.loads(text)
        name = f"run {holder['run_id']}" if holder["run_id"] else "a run that is starting"
        return f"{name} (pid {holder['pid']}, since {holder['since']})"
    except (ValueError, KeyError, TypeError):
        return text.strip() or "an unknown holder"


class RunLock:
    """A held run lock; ``release`` (or process exit) frees it. Taken again where it is lent (the CLI
    takes it before the flow starts, the flow's guard then takes it too), the inner lock only renames
    the holder and its release leaves the lock held."""

    def __init__(self, path: Path, handle: IO[str] | None, *, owner: bool = True) -> None:
        self.path = path
        self._handle: IO[str] | None = handle
        self._owner = owner

    @property
    def held(self) -> bool:
        return self._handle is not None

    def note_holder(self, run_id: str) -> None:
        """Write who holds the lock (pid, run id, since when) into the lock file."""
        if self._handle is None:
            return
        self._handle.seek(0)
        self._handle.truncate()
        self._handle.write(json.dumps({"pid": os.getpid(), "run_id": run_id,
                                       "since": datetime.now(UTC).isoformat(timespec="seconds")}))
        self._handle.flush()

    def release(self) -> None:
        if not self._owner:
            return
        if self._handle is not None:
            fcntl.flock(self._handle, fcntl.LOCK_UN)
            self._handle.close()
            self._handle = None


#: The lock a command holds for the flow it runs (``lend``): the flow's guard takes it over instead
#: of waiting on it (flock is per open file: a second open in this process would wait on itself).
_lent: ContextVar[RunLock | None] = ContextVar("journey_lent_run_lock", default=None)


@contextmanager
def lend(lock: RunLock) -> Iterator[None]:
    """Inside the body, ``acquire_run_lock`` in this context reuses ``lock`` (renaming its holder)."""
    token = _lent.set(lock)
    try:
        yield
    finally:
        _lent.reset(token)


def acquire_run_lock(
    settings: Settings, run_id: str, *, wait_seconds: float | None = None,
    on_wait: Callable[[str, float], None] | None = None,
) -> RunLock:
    """Take the run lock, waiting up to ``wait_seconds`` (default: settings.run_lock_wait_seconds).

    When another process holds it, says so at once — a warning in the log and ``on_wait(holder,
    wait_seconds)`` (the CLI prints it) — then waits; RunInProgress once the wait is over.
    """
    path = lock_path(settings)
    lent = _lent.get()
    if lent is not None and lent.path == path and lent.held:
        lent.note_holder(run_id)
        return RunLock(path, None, owner=False)
    path.parent.mkdir(parents=True, exist_ok=True)
    wait = settings.run_lock_wait_seconds if wait_seconds is None else wait_seconds
    deadline = time.monotonic() + wait
    handle = path.open("a+", encoding="utf-8")
    said = False
    while True:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            remaining = deadline - time.monotonic()
            handle.seek(0)
            holder = describe_holder(handle.read())
            if not said and remaining > 0:
                said = True
                # a warning on the console unless the caller says it there itself
                log.log(logging.INFO if on_wait else logging.WARNING,
                        "the warehouse lock is held by %s; waiting up to %.0f s", holder, wait)
                if on_wait is not None:
                    on_wait(holder, wait)
            if remaining <= 0:
                handle.close()
                raise RunInProgress(
                    f"another journey run is writing the warehouse: {holder} holds the lock {path}. "
                    f"Waited {wait:.0f}s. Let it finish (or stop it), then run again; "
                    "nothing needs cleaning up, even after kill -9."
                ) from None
            time.sleep(min(0.5, remaining))
    lock = RunLock(path, handle)
    lock.note_holder(run_id)
    log.debug("run lock taken", extra={"run_id": run_id, "lock": str(path)})
    return lock
