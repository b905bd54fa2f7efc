import os
from datetime import date
from pathlib import Path

import pytest

from journey.errors import LandingError
from journey.ingest.landing import discover, landed_days


def test_days_and_files_are_found_in_order(tmp_path: Path) -> None:
    for source, day, name in [("crm", "2026-01-06", "touches.jsonl"), ("ehr", "2026-01-05", "Encounter.ndjson"),
                              ("ehr", "2026-01-06", "Patient.ndjson"), ("ehr", "not-a-day", "x.ndjson")]:
        (tmp_path / source / day).mkdir(parents=True, exist_ok=True)
        (tmp_path / source / day / name).write_text("{}\n")
    assert landed_days(tmp_path) == [date(2026, 1, 5), date(2026, 1, 6)]
    files = discover(tmp_path, [date(2026, 1, 6), date(2026, 1, 5)])
    assert [f.relative_path for f in files] == [
        "ehr/2026-01-05/Encounter.ndjson", "ehr/2026-01-06/Patient.ndjson", "crm/2026-01-06/touches.jsonl",
    ]
    assert files[0].sha256 == "ca3d163bab055381827226140568f3bef7eaac187cebd76878e0b63e9e442356"  # sha256 of "{}\n"


def test_symlink_escaping_the_landing_root_is_refused(tmp_path: Path) -> None:
    outside = tmp_path / "outside.ndjson"
    outside.write_text("{}\n")
    landing = tmp_path / "landing"
    (landing / "ehr" / "2026-01-05").mkdir(parents=True)
    (landing / "ehr" / "2026-01-05" / "Encounter.ndjson").symlink_to(outside)
    with pytest.raises(LandingError, match="symbolic links"):
        discover(landing, [date(2026, 1, 5)])


EMPTY_OBJECT_SHA256 = "ca3d163bab055381827226140568f3bef7eaac187cebd76878e0b63e9e442356"  # sha256 of "{}\n"


def _one_file(tmp_path: Path, content: str = "{}\n") -> Path:
    path = tmp_path / "ehr" / "2026-01-05" / "Encounter.ndjson"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content)
    return path


def _age(path: Path, seconds: int = 3600) -> None:
    """Set the modification time back: a file written just now is "racy" and never trusted."""
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns - seconds * 1_000_000_000))


def test_a_file_whose_stat_is_as_recorded_keeps_its_recorded_sha256_unread(tmp_path: Path) -> None:
    path = _one_file(tmp_path)
    assert discover(tmp_path, [date(2026, 1, 5)])[0].file_stat == "", "modified just now: no stat key"
    _age(path)
    (first,) = discover(tmp_path, [date(2026, 1, 5)])
    stat = path.stat()
    assert first.file_stat == f"{stat.st_ino}:{stat.st_size}:{stat.st_mtime_ns}"
    assert first.sha256 == EMPTY_OBJECT_SHA256
    # A recorded value that is not the file's hash shows the file was not read.
    known = {first.relative_path: (first.file_stat, "recorded")}
    assert discover(tmp_path, [date(2026, 1, 5)], known)[0].sha256 == "recorded"
    # Another size, another modification time or another inode (a file replaced by rename): read again.
    path.write_text("[]\n\n")
    _age(path)
    assert discover(tmp_path, [date(2026, 1, 5)], known)[0].sha256 != "recorded"
    path.write_text("{}\n")
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert discover(tmp_path, [date(2026, 1, 5)], known)[0].sha256 == EMPTY_OBJECT_SHA256
    replacement = path.with_name("incoming.tmp")
    replacement.write_text("{}\n")
    os.utime(replacement, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    replacement.replace(path)
    (again,) = discover(tmp_path, [date(2026, 1, 5)], known)
    assert again.file_stat.split(":")[1:] == first.file_stat.split(":")[1:], "same size and time, new inode"
    assert again.sha256 == EMPTY_OBJECT_SHA256
    # Rewritten within the racy window with its old stat recorded: read, however alike it looks.
    path.write_text("{}\n")
    fresh = path.stat()
    racy = {first.relative_path: (f"{fresh.st_ino}:{fresh.st_size}:{fresh.st_mtime_ns}", "recorded")}
    assert discover(tmp_path, [date(2026, 1, 5)], racy)[0].sha256 == EMPTY_OBJECT_SHA256
