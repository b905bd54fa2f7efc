"""`journey run` as an operator meets it: a held lock is named at once, an empty night is recorded
without Prefect, and a run killed with SIGKILL leaves no process behind. Real CLI processes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import date
from pathlib import Path

import pytest

from journey.config import Settings
from journey.ops.runlog import read_runs
from journey_demo import generate

HOLDER_RUN = "20260302T020000-1a2b3c"
_HOLD_LOCK = f"""
import time
from journey.config import Settings
from journey.ops.lock import acquire_run_lock
lock = acquire_run_lock(Settings(), "{HOLDER_RUN}", wait_seconds=0)
print("held", flush=True)
time.sleep(600)
"""
JOURNEY = [sys.executable, "-m", "journey.cli"]


def _hold_lock() -> subprocess.Popen[str]:
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLD_LOCK], stdout=subprocess.PIPE, text=True, env=dict(os.environ)
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    return holder


def _stop(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        process.kill()
    process.wait()


def test_a_second_run_names_the_holder_at_once_then_exits_3(settings: Settings) -> None:
    holder = _hold_lock()
    try:
        result = subprocess.run(
            [*JOURNEY, "run"],
            env={**os.environ, "JOURNEY_RUN_LOCK_WAIT_SECONDS": "1"},
            capture_output=True,
            text=True,
            timeout=300,
        )
    finally:
        _stop(holder)
    assert result.returncode == 3, result.stderr
    lines = result.stderr.splitlines()
    named = f"run {HOLDER_RUN} (pid {holder.pid}, since "
    assert lines[0].startswith(f"waiting: {named}") and lines[0].endswith(
        "holds the warehouse lock; this run waits up to 1 s (JOURNEY_RUN_LOCK_WAIT_SECONDS), then exits 3"
    )
    errors = [index for index, line in enumerate(lines) if line.startswith("error:")]
    assert errors and errors[0] > 0, "the waiting line comes before the error"
    assert lines[errors[0]].startswith(f"error: another journey run is writing the warehouse: {named}")
    assert not settings.prefect_home.exists(), "no Prefect start-up while waiting for the lock"


def test_a_waiting_run_says_so_while_it_waits_and_runs_once_the_lock_is_free(settings: Settings) -> None:
    holder = _hold_lock()
    waiting = subprocess.Popen(
        [*JOURNEY, "run"],
        env={**os.environ, "JOURNEY_RUN_LOCK_WAIT_SECONDS": "300"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert waiting.stderr is not None
        first = waiting.stderr.readline()
        assert first.startswith(f"waiting: run {HOLDER_RUN} (pid {holder.pid}, since ")
        assert waiting.poll() is None, "it said so while still waiting (up to 300 s)"
        _stop(holder)  # kill -9 of the holder: the kernel frees the lock
        out, _ = waiting.communicate(timeout=300)
    finally:
        _stop(holder)
        _stop(waiting)
    assert waiting.returncode == 0
    assert "skipped" in out.splitlines()[0], "nothing landed: the run finds nothing new"


_EMPTY_NIGHT = """
import sys
from journey.cli import app
try:
    app(["run"])
except SystemExit as done:
    print("exit", done.code, "prefect imported:", "prefect" in sys.modules, file=sys.stderr)
"""


def test_an_empty_night_is_recorded_without_importing_prefect(settings: Settings) -> None:
    env = {key: value for key, value in os.environ.items() if key != "PREFECT_API_URL"}
    result = subprocess.run([sys.executable, "-c", _EMPTY_NIGHT], env=env, capture_output=True, text=True, timeout=300)
    assert "exit 0 prefect imported: False" in result.stderr, result.stderr
    (run,) = read_runs(settings)
    assert (run["status"], run["stage"], run["reason"]) == ("skipped", "discover", "no new or changed files in landing")
    assert result.stdout.startswith(f"run {run['run_id']} skipped in ")
    (line,) = (settings.log_dir / "runs.jsonl").read_text(encoding="utf-8").splitlines()
    assert (json.loads(line)["run_id"], json.loads(line)["status"]) == (run["run_id"], "skipped")
    assert f"run {run['run_id']} skipped" in (settings.log_dir / "journey.log").read_text(encoding="utf-8")


def _marked(mark: str) -> dict[int, str]:
    """Live processes whose environment holds ``mark``: pid → command line."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if f"JOURNEY_TEST_MARK={mark}".encode() not in (entry / "environ").read_bytes().split(b"\0"):
                continue
            if (entry / "stat").read_text().rsplit(")", 1)[1].split()[0] in {"Z", "X"}:
                continue  # dead, waiting to be reaped
            found[int(entry.name)] = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
    return found


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_a_run_killed_with_sigkill_leaves_no_process_behind(settings: Settings) -> None:
    """kill -9 while dbt runs: the dbt child (and anything else the run started) ends with the run."""
    generate(settings.landing_dir, settings.generator_dir, start=date(2026, 3, 2), days=1, scale=0.02, seed=7)
    mark = uuid.uuid4().hex
    env = {key: value for key, value in os.environ.items() if key != "PREFECT_API_URL"}
    run = subprocess.Popen(
        [*JOURNEY, "run"],
        env={**env, "JOURNEY_TEST_MARK": mark},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 600
        while not any("dbt" in command for pid, command in _marked(mark).items() if pid != run.pid):
            assert run.poll() is None, "the run ended before dbt started"
            assert time.monotonic() < deadline, "dbt never started"
            time.sleep(0.2)
        children = {pid for pid in _marked(mark) if pid != run.pid}
        run.send_signal(signal.SIGKILL)
        run.wait()
        deadline = time.monotonic() + 60
        while _marked(mark) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert _marked(mark) == {}, f"left running after kill -9 (children were {children})"
    finally:
        for pid in _marked(mark):
            os.kill(pid, signal.SIGKILL)
        _stop(run)  # type: ignore[arg-type]
