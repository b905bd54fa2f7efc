"""The load step (runs.load_days) on several connections: the same raw, quarantine and manifest as one
connection, every file once, and a failed attempt that a retry completes without loading a file twice."""

from __future__ import annotations

import logging
import os
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from journey.config import Settings
from journey.ingest import landing
from journey.ops.checksums import table_checksums
from journey.runs import DayLoad, RunPlan, load_days, plan_run
from journey_demo import generate

START = date(2026, 3, 2)
LOADED_AT = datetime(2026, 3, 4, 2, 0)
SCHEMAS = ("raw", "quarantine")


@pytest.fixture
def plan(settings: Settings) -> RunPlan:
    # 2 % defects: some rows are quarantined, so the quarantine table is compared too
    generate(settings.landing_dir, settings.generator_dir, start=START, days=2, scale=0.02, seed=11, defect_rate=0.02)
    return plan_run(settings, START + timedelta(days=1), run_id="r-load")


def _load(settings: Settings, plan: RunPlan, work: Path, workers: int) -> list[DayLoad]:
    return load_days(settings.model_copy(update={"load_workers": workers}), work, plan, LOADED_AT)


def _tables(work: Path) -> dict[str, dict[str, tuple[int, str]]]:
    return {schema: table_checksums(work, schema) for schema in SCHEMAS}


class _Threads(logging.Handler):
    """The threads the loader's "loaded file" records come from (a handler on the logger itself:
    whatever logging setup an earlier test in this process left, e.g. journey's own, it sees them)."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.names: set[str] = set()

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage() == "loaded file":
            self.names.add(record.threadName)


def test_several_workers_load_what_one_loads_each_file_once(settings: Settings, plan: RunPlan, tmp_path: Path) -> None:
    one = _load(settings, plan, tmp_path / "one.duckdb", 1)
    logger, threads = logging.getLogger("journey.ingest.loader"), _Threads()
    level = logger.level
    logger.addHandler(threads)
    logger.setLevel(logging.INFO)
    try:
        three = _load(settings, plan, tmp_path / "three.duckdb", 3)
    finally:
        logger.removeHandler(threads)
        logger.setLevel(level)

    assert three == one, "the same report per day, in day order"
    assert [report.day for report in three] == [START, START + timedelta(days=1)]
    assert sum(report.files for report in three) == len(plan.files) >= 15
    for report in three:
        assert report.rows_read == report.rows_loaded + report.rows_quarantined
    assert sum(report.rows_quarantined for report in three) > 0, "the defects reached quarantine"
    tables = _tables(tmp_path / "three.duckdb")
    assert tables == _tables(tmp_path / "one.duckdb")
    assert tables["raw"]["load_manifest"][0] == len(plan.files), "one manifest row per file"
    assert len(threads.names) >= 2 and all(name.startswith("journey-load") for name in threads.names), threads.names


def test_a_file_that_vanishes_is_deferred_the_others_load_and_the_next_attempt_loads_it(
    settings: Settings, plan: RunPlan, tmp_path: Path
) -> None:
    reference = tmp_path / "reference.duckdb"
    _load(settings, plan, reference, 1)
    # A file vanishes between discovery and load (a flaky share): that file is deferred, not the night.
    missing = sorted(plan.files_for(START), key=lambda landed: landed.size_bytes)[len(plan.files_for(START)) // 2]
    kept = missing.path.read_bytes()
    missing.path.unlink()

    work = tmp_path / "work.duckdb"
    first = _load(settings, plan, work, 2)
    assert sum(report.files for report in first) == len(plan.files), "every other file loaded"
    deferred = [name for report in first for name in report.deferred_files]
    assert len(deferred) == 1 and deferred[0].startswith(missing.relative_path) and "vanished" in deferred[0]

    missing.path.write_bytes(kept)
    retried = _load(settings, plan, work, 2)
    assert sum(report.files for report in retried) == len(plan.files)
    assert not any(report.deferred_files for report in retried)
    assert _tables(work) == _tables(reference), "the next attempt loaded it, nothing twice, no trace of the deferral"


def test_planning_reads_again_only_the_landed_files_changed_since_their_load(
    settings: Settings, plan: RunPlan, monkeypatch: pytest.MonkeyPatch
) -> None:
    for landed in plan.files:  # landed an hour ago: a file modified just now is never trusted ("racy")
        stat = landed.path.stat()
        os.utime(landed.path, ns=(stat.st_atime_ns, stat.st_mtime_ns - 3_600_000_000_000))
    plan = plan_run(settings, START + timedelta(days=1), run_id="r-load")
    load_days(settings, settings.warehouse_path, plan, LOADED_AT)  # as a published run leaves it
    read: list[Path] = []
    hash_file = landing.sha256_of
    monkeypatch.setattr(landing, "sha256_of", lambda path: read.append(path) or hash_file(path))
    last = START + timedelta(days=1)

    assert plan_run(settings, last).files == () and read == [], "every loaded file trusted by its stat"

    touched, rewritten = plan.files[0].path, plan.files[-1].path
    os.utime(touched)  # a new modification time, the same bytes: read, and still nothing to load
    assert plan_run(settings, last).files == () and read == [touched]

    read.clear()
    rewritten.write_bytes(rewritten.read_bytes() + b"\n")
    again = plan_run(settings, last)
    assert read == [touched, rewritten]
    assert [landed.path for landed in again.files] == [rewritten], "the re-delivery is seen and planned"
