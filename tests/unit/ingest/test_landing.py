"""Discovery accounts for every entry under the landing root: loaded, or refused with a reason.

Fixtures are hand-written FHIR R4 Bulk Data lines (one resource per line) and contract CSV/JSONL rows."""

import gzip
import json
import os
from datetime import date, datetime
from pathlib import Path

import duckdb
import pytest

from journey.ingest import landing as landing_module
from journey.ingest.entities import file_format
from journey.ingest.landing import Discovery, discover, landed_days, name_refusal, survey
from journey.ingest.loader import load_file

DAY = date(2026, 1, 7)
ENCOUNTER = {"resourceType": "Encounter", "id": "enc-1", "status": "finished",
             "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
             "subject": {"reference": "Patient/pat-1"},
             "period": {"start": "2026-01-07T08:00:00+08:00", "end": "2026-01-07T09:10:00+08:00"}}
PATIENT = {"resourceType": "Patient", "id": "pat-1", "gender": "female"}
NDJSON = json.dumps(ENCOUNTER) + "\n"
COMPLAINTS = ("complaint_id,patient_id,encounter_id,department,received_at,first_response_at,resolved_at,"
              "category,channel,description\nc1,pat-1,enc-1,ED,2026-01-07 10:00:00,,,wait,phone,slow\n")
TOUCHES = json.dumps({"touch_id": "t1", "ts": "2026-01-07T10:00:00+08:00", "anonymous_id": "a1",
                      "channel": "wechat", "action": "view"}) + "\n"


def _land(root: Path, relative: str, content: str | bytes = NDJSON) -> Path:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return path


def _refused(found: Discovery) -> dict[str, str]:
    return {entry.relative_path: entry.reason for entry in found.refused}


def _loaded(found: Discovery) -> list[str]:
    return [landed.relative_path for landed in found.files]


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


@pytest.mark.parametrize(("name", "expected"), [
    ("Encounter.ndjson", ("ndjson", None)),
    ("Encounter.002.ndjson.gz", ("ndjson", "gzip")),
    ("ENCOUNTER.NDJSON", ("ndjson", None)),
    ("1.Encounter.NDJSON.GZ", ("ndjson", "gzip")),
    ("touches.JSONL", ("jsonl", None)),
    ("touches.jsonl.gz", ("jsonl", "gzip")),
    ("complaints.CSV", ("csv", None)),
    ("complaints.csv.gz", ("csv", "gzip")),
    ("reviews.Parquet", ("parquet", None)),
    ("Encounter.ndjson.zip", (None, "zip")),
    ("Encounter.ndjson.bz2", (None, "bz2")),
    ("export.7z", (None, "7z")),
    ("export.tar.gz", (None, "tar")),
    ("notes.txt.gz", (None, "gzip")),
    ("notes.txt", (None, None)),
    ("README", (None, None)),
])
def test_a_file_name_gives_its_format_and_compression(name: str, expected: tuple[str | None, str | None]) -> None:
    assert file_format(name) == expected


@pytest.mark.parametrize(("source", "name", "reason"), [
    ("ehr", "Encounter.002.ndjson", None),          # bulk export, numbered per type
    ("ehr", "1.Encounter.ndjson", None),            # bulk export, numbered first
    ("ehr", "Encounter.000.ndjson.gz", None),       # bulk servers gzip by default
    ("ehr", "PATIENT.NDJSON", None),
    ("crm", "Touches.JSONL", None),
    ("crm", "touches.jsonl.gz", None),
    ("relations", "COMPLAINTS.CSV", None),
    ("relations", "complaints.csv.gz", None),
    ("relations", "reviews.parquet", None),
    ("ehr", "Encounter.ndjson.zip", "unsupported_compression"),
    ("ehr", "Encounter.ndjson.bz2", "unsupported_compression"),
    ("crm", "touches.7z", "unsupported_compression"),
    ("relations", "reviews.parquet.gz", "unsupported_compression"),
    ("ehr", "Encounter.json", "unknown_format"),
    ("crm", "touches.txt", "unknown_format"),
    ("ehr", "manifest", "unknown_format"),
    ("crm", "Encounter.ndjson", "wrong_source"),
    ("crm", "complaints.csv", "wrong_source"),
    ("ehr", "touches.jsonl", "wrong_source"),
    ("crm", "notes.csv", "not_in_contract"),
    ("crm", "touches.csv", "not_in_contract"),       # touches are JSONL
    ("ehr", "Encounter.csv", "not_in_contract"),
])
def test_a_file_name_alone_decides_whether_it_is_of_the_contract(source: str, name: str, reason: str | None) -> None:
    refusal = name_refusal(source, name)
    assert (refusal[0] if refusal else None) == reason
    if refusal:
        assert name not in refusal[1], "the detail is a sentence about the folder, the path is recorded beside it"


def test_every_entry_under_the_root_is_loaded_or_refused_with_a_reason(tmp_path: Path) -> None:
    root = tmp_path / "landing"
    loaded = [f"ehr/{DAY}/Patient.ndjson", f"ehr/{DAY}/job-17/Encounter.000.ndjson",
              f"ehr/{DAY}/job-17/part/2/Encounter.001.NDJSON", f"ehr/{DAY}/Encounter.002.ndjson.gz",
              f"crm/{DAY}/Touches.JSONL", f"relations/{DAY}/COMPLAINTS.CSV"]
    for path in loaded:
        _land(root, path, gzip.compress(NDJSON.encode()) if path.endswith(".gz") else NDJSON)
    refused = {
        f"ehr/{DAY}/Encounter.ndjson.zip": "unsupported_compression",
        f"ehr/{DAY}/Encounter.bz2": "unsupported_compression",
        f"ehr/{DAY}/export.7z": "unsupported_compression",
        f"ehr/{DAY}/notes.txt": "unknown_format",
        f"crm/{DAY}/Encounter.ndjson": "wrong_source",
        f"crm/{DAY}/notes.csv": "not_in_contract",
        "ehr/Encounter.ndjson": "outside_drop_folder",
        "Patient.ndjson": "outside_drop_folder",
        "lab/": "unknown_source",
        "ehr/2026-02-30/": "bad_drop_folder",
        "ehr/latest/": "bad_drop_folder",
        "ehr/20260107/": "bad_drop_folder",
        f"ehr/{DAY}/.Encounter.ndjson.part": "hidden",
    }
    for path in refused:
        _land(root, path + "Encounter.ndjson" if path.endswith("/") else path)
    found = survey(root, [DAY])
    assert sorted(_loaded(found)) == sorted(loaded)
    assert _refused(found) == refused
    for entry in found.refused:
        assert entry.detail and "enc-1" not in entry.detail, "a sentence, never the content"
    by_path = {entry.relative_path: entry for entry in found.refused}
    assert (by_path[f"crm/{DAY}/Encounter.ndjson"].source, by_path[f"crm/{DAY}/Encounter.ndjson"].landing_date) == (
        "crm", DAY)
    assert by_path["ehr/latest/"].landing_date is None and by_path["Patient.ndjson"].source is None
    assert by_path[f"ehr/{DAY}/notes.txt"].size_bytes == len(NDJSON)


def test_an_unusable_drop_folder_name_is_no_drop_and_no_date_is_guessed(tmp_path: Path) -> None:
    root = tmp_path / "landing"
    for folder in ("2026-02-30", "latest", "20260107", "2026-1-7"):
        _land(root, f"ehr/{folder}/Encounter.ndjson")
    assert landed_days(root) == []
    found = survey(root, [DAY, date(2026, 2, 28)])
    assert found.files == []
    assert set(_refused(found).values()) == {"bad_drop_folder"} and len(found.refused) == 4
    assert all(entry.landing_date is None for entry in found.refused)


def test_files_in_drops_not_selected_are_neither_loaded_nor_refused(tmp_path: Path) -> None:
    root = tmp_path / "landing"
    _land(root, "ehr/2026-01-08/Encounter.ndjson")
    _land(root, "ehr/2026-01-08/notes.txt")
    _land(root, "ehr/latest/Encounter.ndjson")
    found = survey(root, [DAY])
    assert found.files == [] and _refused(found) == {"ehr/latest/": "bad_drop_folder"}


def test_symlinks_are_refused_and_never_stop_the_others(tmp_path: Path) -> None:
    """A link to a file outside the root, one inside, a broken one, a loop, a linked drop folder and a
    linked source folder: each named, none followed, and the real file still loads (it raised before)."""
    outside = _land(tmp_path, "outside/Patient.ndjson", json.dumps(PATIENT) + "\n")
    root = tmp_path / "landing"
    real = _land(root, f"ehr/{DAY}/Encounter.ndjson")
    drop = root / "ehr" / DAY.isoformat()
    (drop / "Outside.ndjson").symlink_to(outside)
    (drop / "Inside.ndjson").symlink_to(real)
    (drop / "Broken.ndjson").symlink_to(drop / "gone.ndjson")
    (drop / "loop-a.ndjson").symlink_to(drop / "loop-b.ndjson")
    (drop / "loop-b.ndjson").symlink_to(drop / "loop-a.ndjson")
    (drop / "job-1").symlink_to(drop, target_is_directory=True)  # a folder loop
    (root / "relations" / DAY.isoformat()).parent.mkdir(parents=True)
    (root / "relations" / DAY.isoformat()).symlink_to(outside.parent, target_is_directory=True)
    (root / "crm").symlink_to(outside.parent, target_is_directory=True)
    found = survey(root, [DAY])
    assert _loaded(found) == [f"ehr/{DAY}/Encounter.ndjson"]
    assert _refused(found) == {
        f"ehr/{DAY}/{name}": "symlink"
        for name in ("Broken.ndjson", "Inside.ndjson", "Outside.ndjson", "job-1", "loop-a.ndjson", "loop-b.ndjson")
    } | {f"relations/{DAY}": "symlink", "crm": "symlink"}
    assert landed_days(root) == [DAY]


def test_a_fifo_is_refused_without_opening_it(tmp_path: Path) -> None:
    """Opening a FIFO for reading blocks until a writer comes, for root too: it is refused unread."""
    root = tmp_path / "landing"
    _land(root, f"ehr/{DAY}/Patient.ndjson")
    os.mkfifo(root / "ehr" / DAY.isoformat() / "Encounter.ndjson")
    found = survey(root, [DAY])
    assert _loaded(found) == [f"ehr/{DAY}/Patient.ndjson"]
    assert _refused(found) == {f"ehr/{DAY}/Encounter.ndjson": "not_a_regular_file"}


def test_a_file_that_cannot_be_read_is_refused_and_the_others_load(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "landing"
    _land(root, f"ehr/{DAY}/Patient.ndjson")
    locked = _land(root, f"ehr/{DAY}/Encounter.ndjson")
    real = landing_module.sha256_of

    def sha256_of(path: Path) -> str:  # what open() raises without read permission (root is never refused)
        if path == locked.resolve():
            raise PermissionError(13, "Permission denied", str(path))
        return real(path)

    monkeypatch.setattr(landing_module, "sha256_of", sha256_of)
    found = survey(root, [DAY])
    assert _loaded(found) == [f"ehr/{DAY}/Patient.ndjson"]
    assert _refused(found) == {f"ehr/{DAY}/Encounter.ndjson": "not_readable"}
    assert "Permission denied" in found.refused[0].detail


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files and folders whatever their permission bits")
def test_files_and_folders_without_read_permission_are_refused(tmp_path: Path) -> None:
    root = tmp_path / "landing"
    _land(root, f"ehr/{DAY}/Patient.ndjson")
    _land(root, f"ehr/{DAY}/Encounter.ndjson").chmod(0)
    _land(root, f"ehr/{DAY}/job-2/Encounter.ndjson")
    (root / "ehr" / DAY.isoformat() / "job-2").chmod(0)
    try:
        found = survey(root, [DAY])
    finally:
        (root / "ehr" / DAY.isoformat() / "job-2").chmod(0o755)
    assert _loaded(found) == [f"ehr/{DAY}/Patient.ndjson"]
    assert _refused(found) == {f"ehr/{DAY}/Encounter.ndjson": "not_readable", f"ehr/{DAY}/job-2/": "not_readable"}


def test_a_folder_that_cannot_be_listed_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "landing"
    _land(root, f"ehr/{DAY}/Patient.ndjson")
    _land(root, f"ehr/{DAY}/job-2/Encounter.ndjson")
    _land(root, f"crm/{DAY}/touches.jsonl", TOUCHES)
    real = landing_module._entries

    def entries(folder: str) -> list[os.DirEntry[str]]:
        if folder.endswith(("job-2", "crm")):
            raise PermissionError(13, "Permission denied", folder)
        return real(folder)

    monkeypatch.setattr(landing_module, "_entries", entries)
    found = survey(root, [DAY])
    assert _loaded(found) == [f"ehr/{DAY}/Patient.ndjson"]
    assert _refused(found) == {f"ehr/{DAY}/job-2/": "not_readable", "crm/": "not_readable"}


def test_a_file_still_being_written_is_refused_now_and_loaded_once_settled(tmp_path: Path) -> None:
    root = tmp_path / "landing"
    path = _land(root, f"ehr/{DAY}/Encounter.ndjson")
    written = path.stat().st_mtime_ns
    found = survey(root, [DAY], settle_seconds=5, now_ns=written + 1_000_000_000)
    assert found.files == []
    assert _refused(found) == {f"ehr/{DAY}/Encounter.ndjson": "still_being_written"}
    assert "retried next run" in found.refused[0].detail
    later = survey(root, [DAY], settle_seconds=5, now_ns=written + 6_000_000_000)
    assert (_loaded(later), later.refused) == ([f"ehr/{DAY}/Encounter.ndjson"], [])


def test_upper_case_nested_and_gzipped_files_all_load(tmp_path: Path, conn: duckdb.DuckDBPyConnection) -> None:
    """Upper-case extensions, a job sub-folder and ``.ndjson.gz`` / ``.csv.gz`` all load their rows
    (before, all of them were ``ignored``: 0 rows, or not found at all)."""
    root = tmp_path / "landing"
    _land(root, f"ehr/{DAY}/job-17/ENCOUNTER.000.NDJSON", NDJSON)
    _land(root, f"crm/{DAY}/Touches.JSONL", TOUCHES)
    _land(root, f"relations/{DAY}/COMPLAINTS.CSV", COMPLAINTS)
    _land(root, f"ehr/{DAY}/Encounter.001.ndjson.gz", gzip.compress(NDJSON.encode()))
    _land(root, f"relations/{DAY}/complaints.001.csv.gz", gzip.compress(COMPLAINTS.encode()))
    loads = {landed.relative_path: load_file(conn, landed, run_id="r1", loaded_at=datetime(2026, 1, 8))
             for landed in survey(root, [DAY]).files}
    assert {path: (load.status, load.rows_loaded) for path, load in loads.items()} == {
        f"ehr/{DAY}/job-17/ENCOUNTER.000.NDJSON": ("loaded", 1),
        f"crm/{DAY}/Touches.JSONL": ("loaded", 1),
        f"relations/{DAY}/COMPLAINTS.CSV": ("loaded", 1),
        f"ehr/{DAY}/Encounter.001.ndjson.gz": ("loaded", 1),
        f"relations/{DAY}/complaints.001.csv.gz": ("loaded", 1),
    }
    assert conn.execute("select _source_file from raw.ehr_encounter order by 1").fetchall() == [
        (f"ehr/{DAY}/Encounter.001.ndjson.gz",), (f"ehr/{DAY}/job-17/ENCOUNTER.000.NDJSON",)]


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
