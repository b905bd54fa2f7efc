"""Atomic publish: the nightly run builds a working copy; publishing swaps it in with one rename.

Analysts hold read-only connections on the published file; they are never locked out, because the
run never writes that file: it copies it, writes the copy, and renames the copy over it (atomic on
POSIX; an open connection keeps reading the file it opened, a new one sees the new file). A run
killed at any moment leaves the published file intact; the next run removes what the killed one
left behind (working copy, its write-ahead log, a half-made copy, spill files) and starts again from
the published one.
"""

from __future__ import annotations

import errno
import logging
import os
import shutil
from pathlib import Path

from journey.config import Settings
from journey.errors import MissingInput

log = logging.getLogger(__name__)


def require_published_warehouse(settings: Settings, path: Path | None = None) -> Path:
    """The published warehouse file (or ``path``, a warehouse given instead of it); MissingInput naming
    the file and how to publish one when it does not exist yet."""
    warehouse = path or settings.warehouse_path
    if not warehouse.is_file():
        raise MissingInput(
            f"No published warehouse at {warehouse}: nothing has been published there yet.",
            hint="Run `journey run` (or `journey backfill` for every landed day) to load, build and publish it; "
            "for a demo hospital, `make demo`.",
        )
    return warehouse


def _with_suffix(path: Path, suffix: str) -> Path:
    return path.with_name(path.name + suffix)


def _remove(path: Path) -> bool:
    """Remove a DuckDB file and its write-ahead log; True if anything was there."""
    found = False
    for candidate in (path, _with_suffix(path, ".wal")):
        if candidate.exists():
            found = True
            candidate.unlink(missing_ok=True)
    return found


def fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def replace_atomically(source: Path, target: Path) -> None:
    """Rename ``source`` over ``target`` and make the rename durable."""
    if _with_suffix(source, ".wal").exists():
        raise RuntimeError(f"{source} still has a write-ahead log: close every connection before publishing it")
    os.replace(source, target)
    fsync_dir(target.parent)


#: copy_file_range refused for this pair of files (not this filesystem's or this kernel's): copy in user space
_NO_KERNEL_COPY = {errno.ENOSYS, errno.EXDEV, errno.EINVAL, errno.EOPNOTSUPP, errno.EPERM, errno.ETXTBSY}


def copy_file(source: Path, target: Path) -> None:
    """Copy ``source``'s bytes to a new file ``target``, letting the kernel pick the cheapest way.

    The working copy is the whole warehouse, which grows with history (bench/README.md has the
    measured copy times), so a byte copy every night grows with the history. ``copy_file_range`` lets the
    filesystem share the blocks copy-on-write where it can (a reflink on XFS with reflink=1, the
    RHEL default, and on btrfs: near-instant at any size), copy server-side on NFS 4.2, and copy
    in the kernel elsewhere (ext4: as fast as ``shutil``). Where the call is refused before any
    byte is copied, ``shutil`` copies.
    """
    with source.open("rb") as reader, target.open("wb") as writer:
        remaining = os.fstat(reader.fileno()).st_size
        try:
            while remaining > 0:
                copied = os.copy_file_range(reader.fileno(), writer.fileno(), remaining)
                if copied == 0:
                    break
                remaining -= copied
        except OSError as error:
            if error.errno not in _NO_KERNEL_COPY or writer.tell() or reader.tell():
                raise
            shutil.copyfileobj(reader, writer, length=1 << 24)
            return
    if remaining:
        raise OSError(f"{source} shrank while it was copied to {target}")


def copy_for_writing(source: Path, target: Path) -> None:
    """A fresh private copy of ``source`` at ``target`` (via a temporary name, so no half copy survives)."""
    _remove(target)
    if not source.exists():
        return
    partial = _with_suffix(target, ".copying")
    copy_file(source, partial)
    os.replace(partial, target)


def recover_leftovers(settings: Settings) -> list[Path]:
    """Remove everything an interrupted run can leave in the warehouse dir; return what was removed.

    Called by the next run while it holds the run lock, so nothing removed here is in use. The
    published files are never touched.
    """
    removed: list[Path] = []
    warehouse = settings.warehouse_dir
    if not warehouse.is_dir():
        return removed
    for path in sorted(warehouse.iterdir()):
        if path.name.endswith((".work.duckdb", ".work.duckdb.wal", ".copying", ".tmp", ".tmp.wal")):
            path.unlink(missing_ok=True)
            removed.append(path)
    spill = warehouse / ".spill"
    if spill.is_dir() and any(spill.iterdir()):
        shutil.rmtree(spill, ignore_errors=True)
        removed.append(spill)
    for path in removed:
        log.warning("removed a leftover of an interrupted run: %s", path)
    return removed


def prepare_working_copy(settings: Settings) -> Path:
    """A fresh working copy of the published warehouse (or an empty one before the first publish)."""
    settings.warehouse_dir.mkdir(parents=True, exist_ok=True)
    work = settings.work_path
    if work.exists():
        log.warning("discarding a working copy left by an interrupted run: %s", work)
    copy_for_writing(settings.warehouse_path, work)
    return work


def publish(settings: Settings) -> Path:
    """Swap the (closed, checkpointed) working copy in as the published warehouse."""
    replace_atomically(settings.work_path, settings.warehouse_path)
    log.info("published %s", settings.warehouse_path)
    return settings.warehouse_path


def discard_working_copy(settings: Settings) -> None:
    _remove(settings.work_path)
    _with_suffix(settings.work_path, ".copying").unlink(missing_ok=True)
