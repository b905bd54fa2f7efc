"""Retention: landed files hold patient identifiers, so they are deleted once they are safely loaded.

A file under ``landing/<source>/<YYYY-MM-DD>/`` is deleted when all of these hold:

* retention is on (``landing_retention_days`` > 0);
* the **published** warehouse's ``raw.load_manifest`` has a row for the same path **and the same
  sha256** (read from the file, or the recorded one while its inode, size and modification time are
  as when it was loaded: journey.ingest.landing) with status ``loaded``, ``partial`` or ``empty``
  (a file changed since, a file never loaded, and a file journey ignored as outside the source
  contract are kept);
* it lies at any depth of a drop folder (a bulk export's job sub-folders included);
* it is old enough: both its drop day and the day it was loaded are at least ``landing_retention_days``
  before today (hospital time), so a late file for an old day is still kept for the full period.

Each deletion is logged as one structured record (relative path, drop day, load day, size; never the
content); emptied day folders are removed. Symlinks and paths outside the landing root are never
followed nor deleted.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from journey.config import SOURCES, Settings
from journey.errors import LandingError
from journey.ingest.landing import fingerprint, parse_day, safe_path
from journey.warehouse.manifest import published_manifest, recorded_fingerprints

log = logging.getLogger(__name__)

#: Manifest statuses that mean the file's rows are in the warehouse (or it had none).
LOADED_STATUSES = ("loaded", "partial", "empty")


@dataclass(frozen=True)
class ExpiredFile:
    """A landed file past retention (deleted, or to be deleted in a dry run)."""

    relative_path: str
    landing_date: date
    loaded_on: date
    size_bytes: int


@dataclass
class RetentionReport:
    """What a retention pass did. ``kept`` counts files left in place, by reason."""

    retention_days: int | None
    cutoff: date | None
    dry_run: bool
    deleted: list[ExpiredFile] = field(default_factory=list)
    kept: Counter[str] = field(default_factory=Counter)

    @property
    def bytes_freed(self) -> int:
        return sum(item.size_bytes for item in self.deleted)

    def summary(self) -> str:
        if not self.retention_days:
            return "retention is off (landing_retention_days is 0 or unset): every landed file is kept"
        verb = "would delete" if self.dry_run else "deleted"
        kept = ", ".join(f"{reason} {count}" for reason, count in sorted(self.kept.items())) or "none"
        return (
            f"retention {self.retention_days} days (loaded on or before {self.cutoff}): {verb} "
            f"{len(self.deleted)} file(s), {self.bytes_freed:,} bytes; kept: {kept}"
        )


def _drop_entries(folder: Path) -> Iterator[Path]:
    """Every entry at any depth of a drop folder (sub-folders such as a bulk export's job folders are
    entered; a symlinked folder is not: it is yielded, and refused as an unsafe path)."""
    for child in sorted(folder.iterdir()):
        if child.is_dir() and not child.is_symlink():
            yield from _drop_entries(child)
        else:
            yield child


def _landed_files(landing_dir: Path, report: RetentionReport) -> list[tuple[Path, str, date]]:
    """(resolved path, relative path, drop day) of every regular file at any depth of a drop folder."""
    root = landing_dir.resolve()
    found = []
    for source in SOURCES:
        source_dir = landing_dir / source
        if not source_dir.is_dir() or source_dir.is_symlink():
            continue
        for folder in sorted(source_dir.iterdir()):
            day = parse_day(folder.name)
            if day is None or not folder.is_dir():
                continue
            try:
                safe_path(root, folder)
            except LandingError:
                report.kept["unsafe_path"] += 1
                continue
            for file in _drop_entries(folder):
                try:
                    resolved = safe_path(root, file)
                except LandingError:
                    report.kept["unsafe_path"] += 1
                    continue
                if resolved.is_file():
                    found.append((resolved, resolved.relative_to(root).as_posix(), day))
    return found


def apply_retention(
    settings: Settings, *, today: date | None = None, dry_run: bool = False, retention_days: int | None = None
) -> RetentionReport:
    """Delete (or, with ``dry_run``, list) the landed files past retention that are safely loaded."""
    days = settings.landing_retention_days if retention_days is None else retention_days
    today = today or datetime.now(ZoneInfo(settings.timezone)).date()
    if not days:
        return RetentionReport(retention_days=days, cutoff=None, dry_run=dry_run)
    cutoff = today - timedelta(days=days)
    report = RetentionReport(retention_days=days, cutoff=cutoff, dry_run=dry_run)
    entries = published_manifest(settings.warehouse_path)
    # one row per batch: path NUL sha256 → (status, load day)
    manifest = {f"{e.path}\0{e.sha256}": (e.status, e.loaded_on) for e in entries}
    recorded = recorded_fingerprints(entries)
    folders: set[Path] = set()
    for path, relative, day in _landed_files(settings.landing_dir, report):
        if day > cutoff:
            report.kept["too_recent"] += 1
            continue
        sha256, _, stat = fingerprint(path, recorded.get(relative))
        record = manifest.get(f"{relative}\0{sha256}")
        if record is None:
            report.kept["not_loaded"] += 1
            continue
        status, loaded_on = record
        if status not in LOADED_STATUSES:
            report.kept[f"status_{status}"] += 1
            continue
        if loaded_on > cutoff:
            report.kept["too_recent"] += 1
            continue
        expired = ExpiredFile(relative, day, loaded_on, stat.st_size)
        if not dry_run:
            path.unlink()
            drop = settings.landing_dir.resolve().joinpath(*relative.split("/")[:2])
            folders.update(parent for parent in path.parents if parent.is_relative_to(drop))
        report.deleted.append(expired)
        log.info(
            "landed file deleted after retention" if not dry_run else "landed file past retention (dry run)",
            extra={"file": relative, "landing_date": day.isoformat(), "loaded_on": loaded_on.isoformat(),
                   "size_bytes": expired.size_bytes, "retention_days": days, "dry_run": dry_run},
        )
    for folder in sorted(folders, key=lambda folder: len(folder.parts), reverse=True):  # deepest first
        if folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()
    log.info(
        "retention done",
        extra={"retention_days": days, "cutoff": cutoff.isoformat(), "deleted": len(report.deleted),
               "bytes_freed": report.bytes_freed, "dry_run": dry_run,
               **{f"kept_{reason}": count for reason, count in report.kept.items()}},
    )
    return report
