"""Atomic publish: the nightly run builds a working copy; publishing swaps it in with one rename.

Analysts hold read-only connections on the published file; they are never locked out, because the
run never writes that file: it copies it, writes the copy, and renames the copy over it (atomic on
POSIX). A run killed at any moment leaves the published file intact; the next run discards the
stale working copy and starts again from the published one.
"""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path

from journey.config import Settings

log = logging.getLogger(__name__)


def _remove(path: Path) -> None:
    for candidate in (path, path.with_name(path.name + ".wal")):
        candidate.unlink(missing_ok=True)


def prepare_working_copy(settings: Settings) -> Path:
    """A fresh working copy of the published warehouse (or an empty one before the first publish)."""
    settings.warehouse_dir.mkdir(parents=True, exist_ok=True)
    work = settings.work_path
    if work.exists():
        log.warning("discarding a working copy left by an interrupted run: %s", work)
    _remove(work)
    if settings.warehouse_path.exists():
        tmp = work.with_name(work.name + ".copying")
        shutil.copyfile(settings.warehouse_path, tmp)
        os.replace(tmp, work)
    return work


def publish(settings: Settings) -> Path:
    """Swap the (closed, checkpointed) working copy in as the published warehouse."""
    work = settings.work_path
    if work.with_name(work.name + ".wal").exists():
        raise RuntimeError(f"{work} still has a write-ahead log: close every connection before publish")
    os.replace(work, settings.warehouse_path)
    fd = os.open(settings.warehouse_dir, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    log.info("published %s", settings.warehouse_path)
    return settings.warehouse_path


def discard_working_copy(settings: Settings) -> None:
    _remove(settings.work_path)
