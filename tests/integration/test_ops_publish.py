"""Atomic publish under real concurrency: an analyst's process holds a read-only connection across
a run that is killed with SIGKILL in its dbt stage and across the rerun that recovers; the published
warehouse stays readable throughout, the held connection never errors, a new one sees the new data.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest

from journey.config import Settings
from journey.ops.runlog import read_runs
from journey.transform.dbt import nightly_build_args
from journey_demo import generate

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("prefect")]

START = date(2026, 3, 2)
DBT_STAGE = "dbt " + " ".join(nightly_build_args(rebuild=False))

# The analyst: one read-only connection held open, queried until told to stop, then a new connection.
_READER = """
import json, pathlib, sys, time, duckdb
path, stop = sys.argv[1], pathlib.Path(sys.argv[2])
held = duckdb.connect(path, read_only=True)
print(json.dumps({"ready": True}), flush=True)
counts, errors = set(), []
while not stop.exists():
    try:
        counts.add(held.execute("select count(*) from raw.load_manifest").fetchone()[0])
        held.execute("select count(*) from marts.fct_encounters").fetchone()
    except Exception as error:
        errors.append(repr(error))
    time.sleep(0.2)
held.close()  # DuckDB shares one open database per path within a process: close, then connect anew
fresh = duckdb.connect(path, read_only=True)
new_count = fresh.execute("select count(*) from raw.load_manifest").fetchone()[0]
print(json.dumps({"held_counts": sorted(counts), "errors": errors, "new_count": new_count}), flush=True)
"""


def _manifest_count(path: Path) -> int:
    conn = duckdb.connect(str(path), read_only=True)
    try:
        row = conn.execute("select count(*) from raw.load_manifest").fetchone()
        assert row is not None
        return int(row[0])
    finally:
        conn.close()


def _log_lines(log: Path) -> list[str]:
    return log.read_text(encoding="utf-8").splitlines() if log.exists() else []


def _wait_for_dbt_build(log: Path, process: subprocess.Popen[str], *, after: int) -> None:
    """Block until the run logs that `dbt build` started (the dbt stage) in a line past the first ``after``
    (earlier runs of the test log there too); no time limit but the run's own."""
    while process.poll() is None:
        lines = _log_lines(log)[after:]
        # the dbt stage's build, not the stage step's `dbt build --select +staging`
        if any(str(json.loads(line).get("msg", "")).startswith(DBT_STAGE) for line in lines):
            return
        time.sleep(0.2)
    raise AssertionError(f"the run ended (rc={process.returncode}) before its dbt stage")


def test_reader_is_never_locked_and_kill_9_in_dbt_leaves_published_warehouse_intact(
    settings: Settings, tmp_path: Path
) -> None:
    from flows.nightly import nightly

    generate(settings.landing_dir, settings.generator_dir, start=START, days=2, scale=0.02, seed=7)
    second = START + timedelta(days=1)
    assert nightly(run_date=START, docs=False)["status"] == "succeeded"
    day_one = _manifest_count(settings.warehouse_path)

    stop = tmp_path / "stop-reading"
    reader = subprocess.Popen([sys.executable, "-c", _READER, str(settings.warehouse_path), str(stop)],
                              stdout=subprocess.PIPE, text=True)
    assert reader.stdout is not None and json.loads(reader.stdout.readline()) == {"ready": True}

    # A real `journey run` in its own process group, killed with SIGKILL (dbt child included) mid-build.
    logged = len(_log_lines(settings.log_dir / "journey.log"))
    killed = subprocess.Popen(
        [str(Path(sys.executable).with_name("journey")), "run", "--date", second.isoformat()],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True, start_new_session=True,
    )
    try:
        _wait_for_dbt_build(settings.log_dir / "journey.log", killed, after=logged)
    finally:
        os.killpg(killed.pid, signal.SIGKILL)
        killed.wait()
    assert settings.work_path.exists(), "killed mid-run: its working copy is left behind"
    assert _manifest_count(settings.warehouse_path) == day_one, "the published warehouse is the last good one"
    (_, killed_run) = read_runs(settings)
    assert (killed_run["status"], killed_run["stage"]) == ("running", "dbt")

    rerun = nightly(run_date=second, docs=False)  # no manual step in between
    assert (rerun["status"], rerun["days"]) == ("succeeded", [second.isoformat()])
    assert not settings.work_path.exists()
    runs = {run["run_id"]: run for run in read_runs(settings)}
    assert runs[killed_run["run_id"]]["status"] == "interrupted"

    stop.touch()
    out, _ = reader.communicate(timeout=120)
    report = json.loads(out.strip().splitlines()[-1])
    assert report["errors"] == [], "a held read-only connection never sees a lock (or any) error"
    assert report["held_counts"] == [day_one], "the held connection keeps reading the file it opened"
    assert report["new_count"] == _manifest_count(settings.warehouse_path) > day_one, "a new connection sees day 2"
