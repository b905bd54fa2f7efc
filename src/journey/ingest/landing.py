"""Find the files landed under ``landing/<source>/<YYYY-MM-DD>/`` and fingerprint them.

A file's fingerprint is the SHA-256 of its bytes. A file already loaded whose inode, size and
modification time are those recorded when it was loaded (``raw.load_manifest.file_stat``) is not read
again: the nightly run would otherwise hash every file still in landing (15 s a night at a year × 1.9
with 30 days kept). It is the quick check of rsync and make; any copy or rewrite of a file changes its
modification time or its inode, so a re-delivery is still hashed and seen.

Only regular files inside the landing root are accepted: a symlink, or a path that resolves outside
the root, is refused with a LandingError naming it (landing folders are written by other systems).
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from journey.config import SOURCES
from journey.errors import LandingError

_CHUNK = 1 << 20


@dataclass(frozen=True)
class LandedFile:
    """One file in a daily drop."""

    source: str
    landing_date: date
    path: Path
    relative_path: str
    size_bytes: int
    sha256: str
    #: inode, size and modification time when fingerprinted (``stat_key``), recorded with the load
    file_stat: str = ""


#: A file modified this recently when fingerprinted gets no stat key: a rewrite within the same
#: timestamp tick could leave its stat unchanged (git's "racy" files), so it is hashed next time too.
RACY_NS = 2_000_000_000


def stat_key(stat: os.stat_result, now_ns: int | None = None) -> str:
    """What must stay the same for a file's recorded SHA-256 to be trusted without reading it
    ("" for a file modified within ``RACY_NS`` of ``now_ns``: never trusted)."""
    if (now_ns if now_ns is not None else time.time_ns()) - stat.st_mtime_ns < RACY_NS:
        return ""
    return f"{stat.st_ino}:{stat.st_size}:{stat.st_mtime_ns}"


def parse_day(name: str) -> date | None:
    """The date a drop folder is named after, or None if the name is not YYYY-MM-DD."""
    try:
        return date.fromisoformat(name) if len(name) == 10 else None
    except ValueError:
        return None


def safe_path(root: Path, candidate: Path) -> Path:
    """``candidate`` resolved, if it is a real (non-symlink) path inside ``root``; else LandingError."""
    root = root.resolve()
    if candidate.is_symlink():
        raise LandingError(f"{candidate}: symbolic links are not accepted in the landing zone.")
    resolved = candidate.resolve()
    if not resolved.is_relative_to(root):
        raise LandingError(f"{candidate}: resolves outside the landing root {root}.")
    return resolved


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def landed_days(landing_dir: Path) -> list[date]:
    """Every drop date present under any source, sorted."""
    days: set[date] = set()
    for source in SOURCES:
        source_dir = landing_dir / source
        if not source_dir.is_dir():
            continue
        for child in source_dir.iterdir():
            day = parse_day(child.name)
            if day is not None and child.is_dir():
                days.add(day)
    return sorted(days)


def discover(
    landing_dir: Path, days: list[date], known: Mapping[str, tuple[str, str]] | None = None
) -> list[LandedFile]:
    """Every regular file in the drops of ``days``, in (day, source, name) order.

    ``known`` maps a relative path to the (file_stat, sha256) recorded when it was loaded: a file whose
    stat is unchanged keeps that SHA-256 unread; every other file is hashed."""
    found: list[LandedFile] = []
    root = landing_dir.resolve()
    known = known or {}
    for day in sorted(days):
        for source in SOURCES:
            folder = landing_dir / source / day.isoformat()
            if not folder.exists():
                continue
            safe_path(root, folder)
            for file in sorted(folder.iterdir()):
                if file.name.startswith("."):
                    continue
                resolved = safe_path(root, file)
                if not resolved.is_file():
                    continue
                relative = resolved.relative_to(root).as_posix()
                sha256, key, stat = fingerprint(resolved, known.get(relative))
                found.append(
                    LandedFile(
                        source=source,
                        landing_date=day,
                        path=resolved,
                        relative_path=relative,
                        size_bytes=stat.st_size,
                        sha256=sha256,
                        file_stat=key,
                    )
                )
    return found


def fingerprint(path: Path, recorded: tuple[str, str] | None) -> tuple[str, str, os.stat_result]:
    """(SHA-256, ``stat_key``, stat) of a landed file. ``recorded`` is the (file_stat, sha256) recorded
    when it was loaded: while its stat key is that one, the recorded SHA-256 is returned unread."""
    stat = path.stat()
    key = stat_key(stat)
    if key and recorded and recorded[0] == key:
        return recorded[1], key, stat
    return sha256_of(path), key, stat
