"""`journey serve` against a real `prefect server start` on a free loopback port: the deployment has
the cron schedule in the hospital's time zone and a concurrency limit of 1; a triggered run executes
the nightly flow, publishes, and ends Completed. Plus the stage options: per-stage timeouts, and
retries with backoff on I/O errors in extraction only (checked by real Prefect task runs)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from journey.config import Settings
from journey.errors import ValidationFailed
from journey.generate import generate
from journey.ops.prefect_server import prefect_server as start_prefect_server
from journey.ops.prefect_server import stop_process_group, wait_until
from journey.ops.runlog import read_runs

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
    from prefect.deployments import run_deployment
    from prefect.settings import PREFECT_API_URL, temporary_settings

    generate(settings.landing_dir, settings.generator_dir, start=START, days=1, scale=0.02, seed=7)
    env = {**os.environ, "PREFECT_API_URL": prefect_server, "PREFECT_HOME": str(tmp_path / "prefect-client"),
           "JOURNEY_SCHEDULE_CRON": "15 2 * * *"}
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
                assert (schedule.schedule.cron, schedule.schedule.timezone) == ("15 2 * * *", settings.timezone)
                assert schedule.active
                assert deployment.global_concurrency_limit is not None
                assert deployment.global_concurrency_limit.limit == 1
                assert deployment.concurrency_options is not None
                assert deployment.concurrency_options.collision_strategy.value == "ENQUEUE"

            flow_run = run_deployment("journey-nightly/nightly", parameters={"run_date": START.isoformat()},
                                      timeout=None, poll_interval=2, as_subflow=False)
            with get_client(sync_client=True) as client:
                final = client.read_flow_run(flow_run.id)
        assert final.state is not None and final.state.type == StateType.COMPLETED, final.state
    finally:
        stop_process_group(served, signal.SIGINT)
    (run,) = read_runs(settings)
    assert (run["status"], run["run_date"]) == ("succeeded", START)
    assert settings.warehouse_path.exists()


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
