"""Find every entry landed under ``landing/<source>/<YYYY-MM-DD>/`` and fingerprint the files to load.

Discovery accounts for every entry under the landing root: each is a file to load (``LandedFile``)
or refused with a reason (``RefusedEntry``, recorded in ``raw.files_not_loaded`` and named in the run
summary). Files at any depth inside a drop folder belong to that drop (bulk exports nest by job:
``ehr/2026-01-07/job-17/Encounter.000.ndjson``). Nothing is followed that is not a real folder or
file inside the root: a symbolic link (to a file or a folder, inside or outside the root, broken, a
loop) is refused as ``symlink``, never read. Reason codes: ``REASONS``.

A file's fingerprint is the SHA-256 of its bytes. A file already loaded whose inode, size and
modification time are those recorded when it was loaded (``raw.load_manifest.file_stat``) is not read
again: the nightly run would otherwise hash every file still in landing, every night. It is the quick
check of rsync and make; any copy or rewrite of a file changes its modification time or its inode, so a
re-delivery is still hashed and seen.
"""

from __future__ import annotations

import hashlib
import os
import stat as stat_module
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from journey.config import SOURCES
from journey.errors import LandingError
from journey.ingest.entities import COMPRESSIONS, entity_for_file, file_entity, file_format

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
    """``candidate`` resolved, if it is a real (non-symlink) path inside ``root``; else LandingError
    (landing retention; discovery refuses such entries instead, see ``survey``)."""
    root = root.resolve()
    if candidate.is_symlink():
        raise LandingError(f"{candidate}: symbolic links are not accepted in the landing zone.")
    resolved = candidate.resolve()
    if not resolved.is_relative_to(root):
        raise LandingError(f"{candidate}: resolves outside the landing root {root}.")
    return resolved


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    # O_NOFOLLOW: a file swapped for a symlink after it was listed is not read through the link
    with os.fdopen(os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0)), "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def landed_days(landing_dir: Path) -> list[date]:
    """Every drop date present under any source, sorted (real folders only: a symlink is no drop)."""
    days: set[date] = set()
    for source in SOURCES:
        source_dir = landing_dir / source
        if source_dir.is_symlink() or not source_dir.is_dir():
            continue
        try:
            children = list(os.scandir(source_dir))
        except OSError:  # refused as not_readable by survey
            continue
        for child in children:
            day = parse_day(child.name)
            if day is not None and child.is_dir(follow_symlinks=False):
                days.add(day)
    return sorted(days)


#: Why an entry under the landing root is not loaded (``RefusedEntry.reason``; data/README.md,
#: "Landing layout").
REASONS: dict[str, str] = {
    "unsupported_compression": "compressed or archived in a format journey does not read (only .gz is read)",
    "unknown_format": "an extension journey does not read (.ndjson, .jsonl, .csv, .parquet, optionally .gz)",
    "not_in_contract": "a readable format, but not a file of this source's contract",
    "wrong_source": "a file of another source's contract, in the wrong source folder",
    "outside_drop_folder": "a file directly under the landing root or a source folder, not in a drop folder",
    "unknown_source": "a folder under the landing root that is not a source journey reads",
    "bad_drop_folder": "a folder under a source whose name is not a date YYYY-MM-DD",
    "not_readable": "a file or folder journey may not read (permission)",
    "symlink": "a symbolic link (never followed)",
    "not_a_regular_file": "a FIFO, socket or device, not a file",
    "still_being_written": "modified within landing_settle_seconds of discovery: retried next run",
    "hidden": "a hidden entry (name starts with '.'), e.g. a transfer's temporary file",
}


@dataclass(frozen=True)
class RefusedEntry:
    """An entry under the landing root that is not loaded, and why (a row of ``raw.files_not_loaded``)."""

    #: relative to the landing root; a folder ends with ``/``
    relative_path: str
    #: one of ``REASONS``
    reason: str
    #: a sentence naming what was found and what to do (never the file's content)
    detail: str
    source: str | None = None
    landing_date: date | None = None
    size_bytes: int | None = None
    #: inode:size:mtime_ns when seen (a changed entry is a new refusal)
    file_stat: str = ""


@dataclass(frozen=True)
class Discovery:
    """What ``survey`` found: the files to fingerprint-check and load, and every entry refused."""

    files: list[LandedFile]
    refused: list[RefusedEntry]


def _entries(folder: str) -> list[os.DirEntry[str]]:
    with os.scandir(folder) as found:
        return sorted(found, key=lambda entry: entry.name)


def _stat_text(stat: os.stat_result) -> str:
    return f"{stat.st_ino}:{stat.st_size}:{stat.st_mtime_ns}"


_CONTRACT_FILES = {
    "ehr": "FHIR NDJSON (*.ndjson, *.ndjson.gz)",
    "crm": "campaigns.csv and touches.jsonl (also .gz or .parquet)",
    "relations": "follow_ups.csv, complaints.csv and reviews.jsonl (also .gz or .parquet)",
}


def name_refusal(source: str, name: str) -> tuple[str, str] | None:
    """(reason, detail) for a file in a drop of ``source`` that its name alone refuses; None for a file of
    the contract (any ``*.ndjson[.gz]`` under ``ehr/`` is FHIR: ``Encounter.002.ndjson``, ``1.Encounter.ndjson``)."""
    file_kind, compression = file_format(name)
    if compression is not None and compression not in COMPRESSIONS.values():
        return "unsupported_compression", f".{compression} is not read: land the file uncompressed or gzipped (.gz)"
    if file_kind == "parquet" and compression is not None:
        return "unsupported_compression", "a compressed Parquet file is not read (Parquet compresses inside the file)"
    if file_kind is None:
        return "unknown_format", f"not a format journey reads; {source}/ takes {_CONTRACT_FILES[source]}"
    if file_kind == "ndjson":
        return None if source == "ehr" else ("wrong_source", "FHIR NDJSON belongs in ehr/<YYYY-MM-DD>/")
    if entity_for_file(source, name) is not None:
        return None
    other = file_entity(name)
    if other is not None and other.source != source:
        return "wrong_source", f"{other.name} is a {other.source}/ file: land it in {other.source}/<YYYY-MM-DD>/"
    return "not_in_contract", f"not a file of the contract; {source}/ takes {_CONTRACT_FILES[source]}"


def survey(
    landing_dir: Path,
    days: list[date],
    known: Mapping[str, tuple[str, str]] | None = None,
    *,
    settle_seconds: float = 0.0,
    now_ns: int | None = None,
) -> Discovery:
    """Every entry under ``landing_dir``: the files of the drops of ``days`` to load, in (day, source,
    path) order, and every entry refused (those inside a drop folder only for the drops of ``days``; the
    others, which have no drop day, always).

    ``known`` maps a relative path to the (file_stat, sha256) recorded when it was loaded: a file whose
    stat is unchanged keeps that SHA-256 unread; every other file is hashed. A file modified less than
    ``settle_seconds`` before ``now_ns`` is refused as ``still_being_written`` (not recorded as loaded:
    the next run sees it again). Raises LandingError only when the landing root itself cannot be read."""
    root = landing_dir.resolve()
    known = known or {}
    now = now_ns if now_ns is not None else time.time_ns()
    walk = _Walk(root, set(days), known, int(settle_seconds * 1_000_000_000), now)
    if root.is_dir():
        try:
            top = _entries(str(root))
        except OSError as error:
            raise LandingError(f"{root}: the landing root cannot be read ({error.strerror}).") from error
        for entry in top:
            walk.top(entry)
    walk.files.sort(key=lambda landed: (landed.landing_date, SOURCES.index(landed.source), landed.relative_path))
    return Discovery(walk.files, walk.refused)


@dataclass
class _Walk:
    root: Path
    days: set[date]
    known: Mapping[str, tuple[str, str]]
    settle_ns: int
    now_ns: int
    files: list[LandedFile] = field(default_factory=list)
    refused: list[RefusedEntry] = field(default_factory=list)

    def refuse(self, entry: os.DirEntry[str], relative: str, reason: str, detail: str,
               source: str | None = None, day: date | None = None) -> None:
        try:
            stat: os.stat_result | None = entry.stat(follow_symlinks=False)
        except OSError:
            stat = None
        is_file = stat is not None and not stat_module.S_ISDIR(stat.st_mode)
        self.refused.append(RefusedEntry(
            relative_path=relative, reason=reason, detail=detail, source=source, landing_date=day,
            size_bytes=stat.st_size if stat is not None and is_file else None,
            file_stat=_stat_text(stat) if stat is not None else "",
        ))

    def special(self, entry: os.DirEntry[str], relative: str, source: str | None, day: date | None) -> bool:
        """Refuse a hidden entry or a symlink (never followed); True if it was one."""
        if entry.name.startswith("."):
            self.refuse(entry, relative, "hidden", "hidden entry (a name starting with '.'): not loaded", source, day)
        elif entry.is_symlink():
            self.refuse(entry, relative, "symlink", "symbolic link: never followed; land the file itself",
                        source, day)
        else:
            return False
        return True

    def top(self, entry: os.DirEntry[str]) -> None:
        if self.special(entry, entry.name, None, None):
            return
        if not entry.is_dir(follow_symlinks=False):
            self.refuse(entry, entry.name, "outside_drop_folder",
                        "directly under the landing root: land it in <source>/<YYYY-MM-DD>/")
        elif entry.name not in SOURCES:
            self.refuse(entry, entry.name + "/", "unknown_source",
                        f"not a source journey reads ({', '.join(SOURCES)}): nothing in it is loaded")
        else:
            self.source(entry)

    def source(self, folder: os.DirEntry[str]) -> None:
        source = folder.name
        try:
            children = _entries(folder.path)
        except OSError as error:
            self.refuse(folder, source + "/", "not_readable", f"source folder cannot be read ({error.strerror})",
                        source)
            return
        for entry in children:
            relative = f"{source}/{entry.name}"
            if self.special(entry, relative, source, None):
                continue
            if not entry.is_dir(follow_symlinks=False):
                self.refuse(entry, relative, "outside_drop_folder",
                            f"directly under {source}/, not in a drop folder: land it in {source}/<YYYY-MM-DD>/",
                            source)
                continue
            day = parse_day(entry.name)
            if day is None:
                self.refuse(entry, relative + "/", "bad_drop_folder",
                            "not a drop folder: its name is not a date YYYY-MM-DD, so nothing in it is loaded "
                            "(no date is guessed); rename it to the extraction day", source)
            elif day in self.days:
                self.drop(entry, relative, source, day)

    def drop(self, folder: os.DirEntry[str], relative: str, source: str, day: date) -> None:
        """Every file at any depth of a drop folder (sub-folders such as a bulk export's job folders)."""
        try:
            children = _entries(folder.path)
        except OSError as error:
            self.refuse(folder, relative + "/", "not_readable", f"folder cannot be read ({error.strerror})",
                        source, day)
            return
        for entry in children:
            path = f"{relative}/{entry.name}"
            if self.special(entry, path, source, day):
                continue
            if entry.is_dir(follow_symlinks=False):
                self.drop(entry, path, source, day)
            elif entry.is_file(follow_symlinks=False):
                self.file(entry, path, source, day)
            else:
                self.refuse(entry, path, "not_a_regular_file", "a FIFO, socket or device, not a file: not read",
                            source, day)

    def file(self, entry: os.DirEntry[str], relative: str, source: str, day: date) -> None:
        refusal = name_refusal(source, entry.name)
        if refusal is not None:
            self.refuse(entry, relative, *refusal, source=source, day=day)
            return
        try:
            stat = entry.stat(follow_symlinks=False)
        except FileNotFoundError:  # removed since it was listed: nothing left to account for
            return
        if self.now_ns - stat.st_mtime_ns < self.settle_ns:
            self.refuse(entry, relative, "still_being_written",
                        f"modified {(self.now_ns - stat.st_mtime_ns) / 1e9:.1f} s before discovery, less than "
                        f"{self.settle_ns / 1e9:g} s (landing_settle_seconds): not loaded now, retried next run",
                        source, day)
            return
        path = self.root / relative
        try:
            sha256, key, stat = fingerprint(path, self.known.get(relative))
        except FileNotFoundError:
            return
        except OSError as error:
            self.refuse(entry, relative, "not_readable", f"cannot be read ({error.strerror or error})", source, day)
            return
        self.files.append(LandedFile(source=source, landing_date=day, path=path, relative_path=relative,
                                     size_bytes=stat.st_size, sha256=sha256, file_stat=key))


def discover(
    landing_dir: Path, days: list[date], known: Mapping[str, tuple[str, str]] | None = None
) -> list[LandedFile]:
    """The files to load of ``survey`` (every refused entry left out)."""
    return survey(landing_dir, days, known).files


def fingerprint(path: Path, recorded: tuple[str, str] | None) -> tuple[str, str, os.stat_result]:
    """(SHA-256, ``stat_key``, stat) of a landed file. ``recorded`` is the (file_stat, sha256) recorded
    when it was loaded: while its stat key is that one, the recorded SHA-256 is returned unread."""
    stat = path.stat()
    key = stat_key(stat)
    if key and recorded and recorded[0] == key:
        return recorded[1], key, stat
    return sha256_of(path), key, stat
