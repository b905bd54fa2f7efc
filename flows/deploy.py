"""`journey serve`: the nightly flow as a Prefect deployment on this machine.

A cron schedule in the hospital's time zone (``JOURNEY_SCHEDULE_CRON``, default 02:00 daily, in
``JOURNEY_TIMEZONE``), a deployment concurrency limit of 1 with queued collisions (a run that comes
due while another is writing waits for it: DuckDB has one writer), and runs executed by this process
(``flow.serve``-style runner, at most one at a time). Against the Prefect server in
``PREFECT_API_URL``, or a temporary local one when it is unset.
"""

from __future__ import annotations

from prefect import serve
from prefect.client.schemas.objects import ConcurrencyLimitConfig, ConcurrencyLimitStrategy
from prefect.deployments.runner import EntrypointType, RunnerDeployment
from prefect.schedules import Cron

from flows.nightly import nightly
from journey.config import Settings

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


def serve_nightly(settings: Settings) -> None:
    """Register the deployment and execute its runs until interrupted (Ctrl-C / SIGTERM)."""
    serve(nightly_deployment(settings), limit=1)
