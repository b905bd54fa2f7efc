"""`journey serve` against a real `prefect server start` on a free loopback port: the deployment has
the cron schedule in the hospital's time zone and a concurrency limit of 1; a triggered run executes
the nightly flow, publishes, and ends Completed. Without PREFECT_API_URL it serves against a local
server of its own and a Ctrl-C stops both. Plus the stage options: per-stage timeouts, and
retries with backoff on I/O errors in extraction only (checked by real Prefect task runs)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import pytest

from journey.config import Settings
from journey.errors import ValidationFailed
from journey.ops.prefect_server import prefect_server as start_prefect_server
from journey.ops.prefect_server import stop_process_group, wait_until
from journey.ops.runlog import read_runs
from journey_demo import generate

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("prefect")]

START = date(2026, 3, 2)


@pytest.fixture
def prefect_server(tmp_path: Path) -> Iterator[str]:
    """A real Prefect server with its own home and SQLite database, on a free 127.0.0.1 port."""
    with start_prefect_server(tmp_path / "prefect-server") as url:
        yield url


def test_journey_serve_deploys_schedule_and_runs_on_a_real_server(
    settings: Settings, tmp_path: Path, prefect_server: str
) -> None:
    from prefect import get_client
    from prefect.client.schemas.objects import StateType
    from prefect.settings import PREFECT_API_URL, temporary_settings

    generate(settings.landing_dir, settings.generator_dir, start=START, days=1, scale=0.02, seed=7)
    # Daily at hh:15 local, hh twelve hours from now: no scheduled run comes due during the test.
    zone = ZoneInfo(settings.timezone)
    hour = (datetime.now(zone).hour + 12) % 24
    cron = f"15 {hour} * * *"
    env = {**os.environ, "PREFECT_API_URL": prefect_server, "PREFECT_HOME": str(tmp_path / "prefect-client"),
           "JOURNEY_SCHEDULE_CRON": cron}
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        served = subprocess.Popen([str(Path(sys.executable).with_name("journey")), "serve"],
                                  env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        with temporary_settings({PREFECT_API_URL: prefect_server}):
            with get_client(sync_client=True) as client:

                def deployed() -> bool:
                    try:
                        client.read_deployment_by_name("journey-nightly/nightly")
                        return True
                    except Exception:  # noqa: BLE001 - not registered yet
                        return False

                wait_until(deployed, "journey serve", served, log, timeout_seconds=600)
                deployment = client.read_deployment_by_name("journey-nightly/nightly")
                (schedule,) = deployment.schedules
                assert (schedule.schedule.cron, schedule.schedule.timezone) == (cron, settings.timezone)
                assert schedule.active
                assert deployment.global_concurrency_limit is not None
                assert deployment.global_concurrency_limit.limit == 1
                assert deployment.concurrency_options is not None
                assert deployment.concurrency_options.collision_strategy.value == "ENQUEUE"
                # The server's scheduler creates the coming runs (with SQLAlchemy 2.1.9 it failed every
                # pass and created none: the nightly would never have started).
                starts = _scheduled_starts(client, deployment.id, served, tmp_path / "prefect-server" / "server.log")
        after = datetime.now(zone)
        first = datetime.combine(after.date(), time(hour, 15), tzinfo=zone)
        first += timedelta(days=1) if first <= after else timedelta(0)
        assert starts[:3] == [first, first + timedelta(days=1), first + timedelta(days=2)], starts
        # docs/operations.md → "Check the schedule": the command the data engineer runs lists them (with
        # fastapi >= 0.151 the server answered this CLI's explicit nulls with 422).
        prefect = str(Path(sys.executable).with_name("prefect"))
        cli_env = {**env, "COLUMNS": "200"}
        listed = subprocess.run([prefect, "flow-run", "ls", "--flow-name", "journey-nightly", "--state-type",
                                 "SCHEDULED"], env=cli_env, capture_output=True, text=True, timeout=120)
        assert listed.returncode == 0, listed.stdout[-2000:] + listed.stderr[-2000:]
        assert listed.stdout.count("SCHEDULED") >= 3, listed.stdout

        # docs/operations.md → "Run now": the served runner executes it; --watch waits for its end.
        ran = subprocess.run([prefect, "deployment", "run", "journey-nightly/nightly", "-p",
                              f"run_date={START.isoformat()}", "--watch"],
                             env=cli_env, capture_output=True, text=True, timeout=900)
        assert ran.returncode == 0, ran.stdout[-3000:] + ran.stderr[-2000:]
        with temporary_settings({PREFECT_API_URL: prefect_server}), get_client(sync_client=True) as client:
            (final,) = _runs_in_state(client, deployment.id, StateType.COMPLETED)
        assert final.parameters == {"run_date": START.isoformat()}
    finally:
        stop_process_group(served, signal.SIGINT)
    (run,) = read_runs(settings)
    assert (run["status"], run["run_date"]) == ("succeeded", START)
    assert settings.warehouse_path.exists()


def _runs_in_state(client: Any, deployment_id: UUID, state: Any) -> list[Any]:
    """The deployment's flow runs whose state is of type ``state``, by expected start time."""
    from prefect.client.schemas.filters import (
        DeploymentFilter,
        DeploymentFilterId,
        FlowRunFilter,
        FlowRunFilterState,
        FlowRunFilterStateType,
    )
    from prefect.client.schemas.sorting import FlowRunSort

    return list(client.read_flow_runs(
        deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[deployment_id])),
        flow_run_filter=FlowRunFilter(state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[state]))),
        sort=FlowRunSort.EXPECTED_START_TIME_ASC, limit=10,  # this client sends None for both otherwise: 422
    ))


def _scheduled_starts(
    client: Any, deployment_id: UUID, served: subprocess.Popen[bytes], server_log: Path
) -> list[datetime]:
    """Expected start times (hospital-zone aware) of the deployment's scheduled runs, once the server's
    scheduler has created at least three (its recent-deployments pass runs every 5 s); if it does not,
    the failure shows the server's log (where the scheduler's errors are)."""
    from prefect.client.schemas.objects import StateType

    found: list[datetime] = []

    def scheduled() -> bool:
        runs = _runs_in_state(client, deployment_id, StateType.SCHEDULED)
        found[:] = sorted(run.expected_start_time for run in runs if run.expected_start_time is not None)
        return len(found) >= 3

    wait_until(scheduled, "the server's scheduler", served, server_log, timeout_seconds=180)
    return found


@pytest.mark.parametrize("moment", ["serving", "server-starting"])
def test_journey_serve_without_a_server_starts_one_and_stops_on_ctrl_c(
    settings: Settings, tmp_path: Path, moment: str
) -> None:
    """No PREFECT_API_URL: `journey serve` serves against a local server of its own (history in the
    data dir's Prefect home), and a Ctrl-C (SIGINT to the terminal's process group) ends both: once it
    serves, and while its server is still starting (before the runner handles signals: a Ctrl-C there
    used to kill `serve` by SIGTERM and leave the server running, orphaned)."""
    settings.ensure_dirs()
    env = {key: value for key, value in os.environ.items() if key != "PREFECT_API_URL"}
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        served = subprocess.Popen([str(Path(sys.executable).with_name("journey")), "serve"],
                                  env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        if moment == "serving":
            wait_until(lambda: b"being served" in log.read_bytes(), "journey serve", served, log, timeout_seconds=300)
            assert (settings.prefect_home / "prefect.db").is_file()
        else:
            wait_until(lambda: bool(_processes_with_prefect_home(settings.prefect_home)), "the local server",
                       served, log, timeout_seconds=300)
        servers = _processes_with_prefect_home(settings.prefect_home)
        assert servers, "a local Prefect server runs with the data dir's Prefect home"
        os.killpg(served.pid, signal.SIGINT)
        if moment == "server-starting":
            assert b"being served" not in log.read_bytes(), "the Ctrl-C came before the runner started"
        # Not a speed check: a bound so a hang fails (before flows/deploy.py routed SIGINT to the runner's
        # SIGTERM path, a Ctrl-C after ~30 s of serving left it running for minutes); the tails say where.
        try:
            code = served.wait(timeout=180)
        except subprocess.TimeoutExpired:
            server_log = settings.prefect_home / "server.log"
            tails = log.read_text(encoding="utf-8")[-3000:] + "\n--- server.log ---\n" + (
                server_log.read_text(encoding="utf-8", errors="replace")[-3000:] if server_log.is_file() else "(none)")
            raise AssertionError(f"journey serve still running 180 s after Ctrl-C:\n{tails}") from None
        assert code == 0, log.read_text(encoding="utf-8")[-3000:]
    finally:
        if served.poll() is None:
            stop_process_group(served, signal.SIGKILL, grace_seconds=1)
    assert b"starting a local Prefect server" in log.read_bytes()
    assert not [pid for pid in servers if Path(f"/proc/{pid}").exists()], "the local server stopped with serve"


def _processes_with_prefect_home(home: Path) -> list[int]:
    """Processes whose environment names ``home`` as PREFECT_HOME and that run `prefect server`."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            environ = (proc / "environ").read_bytes().split(b"\0")
            cmdline = (proc / "cmdline").read_bytes()
        except OSError:
            continue
        if f"PREFECT_HOME={home}".encode() in environ and b"server" in cmdline:
            found.append(int(proc.name))
    return found


def test_only_extraction_retries_with_backoff_on_io_errors_and_every_stage_has_a_timeout(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from prefect import flow, task

    from flows.nightly import extraction_options, stage_tasks

    monkeypatch.setenv("JOURNEY_EXTRACT_RETRY_DELAY_SECONDS", "0")
    monkeypatch.setenv("JOURNEY_TIMEOUTS__DBT", "1234")
    settings = Settings()
    tasks = stage_tasks(settings)
    retrying = {name for name, item in vars(tasks).items() if item.retries}
    assert retrying == {"plan", "load"}
    assert tasks.build.timeout_seconds == 1234 and all(item.timeout_seconds for item in vars(tasks).values())
    backoff = Settings(extract_retry_delay_seconds=10, extract_retries=3)
    assert extraction_options(backoff)["retry_delay_seconds"](3) == [10, 20, 40]

    attempts: list[str] = []

    def flaky_share(kind: str) -> str:
        attempts.append(kind)
        if kind == "io" and len(attempts) <= settings.extract_retries:
            raise OSError("NFS stale file handle")
        if kind == "data":
            raise ValidationFailed("bad file")
        return "ok"

    extract = task(flaky_share, name="extract-like", **extraction_options(settings))

    @flow
    def probe(kind: str) -> str:
        return extract(kind)

    assert probe("io") == "ok" and attempts == ["io"] * (settings.extract_retries + 1)
    attempts.clear()
    with pytest.raises(ValidationFailed):
        probe("data")
    assert attempts == ["data"], "bad data is not retried"
