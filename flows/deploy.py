"""`journey serve`: the nightly flow as a Prefect deployment on this machine.

A cron schedule in the hospital's time zone (``JOURNEY_SCHEDULE_CRON``, default 02:00 daily, in
``JOURNEY_TIMEZONE``), a deployment concurrency limit of 1 with queued collisions (a run that comes
due while another is writing waits for it: DuckDB has one writer), and runs executed by this process
(``flow.serve``-style runner, at most one at a time). Against the Prefect server in
``PREFECT_API_URL``; when it is unset, against a local ``prefect server`` this process starts (its
database in the data dir's Prefect home, so run history outlives it) and stops when serving ends.
Not Prefect's temporary in-process API server: that one exits first on Ctrl-C and leaves ``serve``
retrying its event connection for ever.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from prefect import serve
from prefect.client.schemas.objects import ConcurrencyLimitConfig, ConcurrencyLimitStrategy
from prefect.deployments.runner import EntrypointType, RunnerDeployment
from prefect.schedules import Cron
from prefect.settings import PREFECT_API_URL, temporary_settings

from flows.nightly import nightly
from journey.config import Settings
from journey.ops.prefect_server import prefect_server

log = logging.getLogger(__name__)

DEPLOYMENT_NAME = "nightly"
FULL_NAME = f"{nightly.name}/{DEPLOYMENT_NAME}"


def nightly_deployment(settings: Settings) -> RunnerDeployment:
    # to_deployment is sync-compatible: called from sync code it returns the deployment itself.
    return nightly.to_deployment(  # type: ignore[return-value]
        name=DEPLOYMENT_NAME,
        schedules=[Cron(settings.schedule_cron, timezone=settings.timezone)],
        concurrency_limit=ConcurrencyLimitConfig(limit=1, collision_strategy=ConcurrencyLimitStrategy.ENQUEUE),
        description="Load new landed files, build and check the warehouse, publish it atomically.",
        tags=["journey"],
        # The runner imports flows.nightly by module (installed with journey), whatever the cwd.
        entrypoint_type=EntrypointType.MODULE_PATH,
    )


def starts_local_server() -> bool:
    """No Prefect API is configured (PREFECT_API_URL): `serve_nightly` starts a local server."""
    return not PREFECT_API_URL.value()


def serve_nightly(settings: Settings) -> None:
    """Register the deployment and execute its runs until interrupted (Ctrl-C / SIGTERM)."""
    deployment = nightly_deployment(settings)
    # Ctrl-C takes the runner's SIGTERM path: once it polls, a KeyboardInterrupt left `serve` running
    # (with Prefect 3.8.8 it stayed up after SIGINT and stopped promptly after SIGTERM).
    signal.signal(signal.SIGINT, lambda signum, frame: os.kill(os.getpid(), signal.SIGTERM))
    # Until the runner installs its SIGTERM handler (after registering the deployment and printing
    # "being served"), SIGTERM exits through the `with` blocks: the local server is stopped, not orphaned.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
    with _api(settings):
        serve(deployment, limit=1)


@contextmanager
def _api(settings: Settings) -> Iterator[None]:
    """The configured Prefect API, or a local server for as long as the block runs. The server is in
    its own process group: a Ctrl-C stops `serve` first, then the server."""
    if not starts_local_server():
        yield
        return
    with prefect_server(settings.prefect_home) as api_url:
        log.info("PREFECT_API_URL is unset: started a local Prefect server at %s (history in %s)",
                 api_url, settings.prefect_home / "prefect.db")
        previous = os.environ.get("PREFECT_API_URL")
        os.environ["PREFECT_API_URL"] = api_url  # for the flow-run processes the runner starts
        try:
            with temporary_settings(updates={PREFECT_API_URL: api_url}):
                yield
        finally:
            if previous is None:
                os.environ.pop("PREFECT_API_URL", None)
            else:
                os.environ["PREFECT_API_URL"] = previous
