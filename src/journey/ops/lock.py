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


class RunLock:
    """A held run lock; ``release`` (or process exit) frees it."""

    def __init__(self, path: Path, handle: IO[str]) -> None:
        self.path = path
        self._handle: IO[str] | None = handle

    def release(self) -> None:
        if self._handle is not None:
            fcntl.flock(self._handle, fcntl.LOCK_UN)
            self._handle.close()
            self._handle = None


def acquire_run_lock(settings: Settings, run_id: str, *, wait_seconds: float | None = None) -> RunLock:
    """Take the run lock, waiting up to ``wait_seconds`` (default: settings.run_lock_wait_seconds)."""
    path = lock_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    wait = settings.run_lock_wait_seconds if wait_seconds is None else wait_seconds
    deadline = time.monotonic() + wait
    handle = path.open("a+", encoding="utf-8")
    while True:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                handle.seek(0)
                holder = handle.read().strip() or "unknown holder"
                handle.close()
                raise RunInProgress(
                    f"another journey run is writing the warehouse ({holder}; lock {path}). "
                    f"Waited {wait:.0f}s. Let it finish (or stop it), then run again; "
                    "nothing needs cleaning up, even after kill -9."
                ) from None
            time.sleep(min(1.0, remaining))
    handle.seek(0)
    handle.truncate()
    handle.write(json.dumps({"pid": os.getpid(), "run_id": run_id,
                             "since": datetime.now(UTC).isoformat(timespec="seconds")}))
    handle.flush()
    log.debug("run lock taken", extra={"run_id": run_id, "lock": str(path)})
    return RunLock(path, handle)
