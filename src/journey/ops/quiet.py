"""A night with nothing new landed, decided and recorded without starting the orchestrator.

Most nights of a catch-up schedule and every second `journey run` find nothing new. The nightly
flow records such a run as ``skipped`` right after discovery; importing Prefect and the flow's
stages costs most of the time of the whole decision (bench/README.md). So the CLI, when no Prefect
server is configured, plans first, under the run lock and the same guard as the flow, and starts
the flow only when there is something to do. Both paths use ``nothing_new`` and ``record_skipped``.
"""

from __future__ import annotations

import time
from datetime import date

from journey.config import Settings
from journey.logs import run_logging
from journey.ops.guard import guarded_run
from journey.ops.steps import Step
from journey.runs import RunPlan, RunSummary, plan_run, record_run

SKIPPED_REASON = "no new or changed files in landing"


def nothing_new(plan: RunPlan, *, rebuild: bool = False, replay: bool = False) -> bool:
    """Nothing new or changed landed (entries refused before, unchanged, were named then) and no
    rebuild or replay was asked for: the published warehouse is already up to date."""
    return not plan.files and not plan.refused_new and not rebuild and not replay


def record_skipped(settings: Settings, summary: RunSummary) -> None:
    summary.finish("skipped", SKIPPED_REASON)
    record_run(settings, summary)


def run_result(settings: Settings, summary: RunSummary, plan: RunPlan) -> dict[str, object]:
    """A run's outcome as the CLI's summary reads it (the nightly flow returns the same)."""
    return {
        "run_id": summary.run_id,
        "status": summary.status,
        "days": [d.isoformat() for d in plan.days],
        "files": summary.files,
        "rows_read": summary.rows_read,
        "rows_loaded": summary.rows_loaded,
        "rows_quarantined": summary.rows_quarantined,
        "checks_passed": summary.checks_passed,
        "checks_failed": summary.checks_failed,
        "checks_warned": summary.checks_warned,
        "stage_seconds": summary.stage_seconds,
        "reason": summary.reason,
        "files_not_loaded": summary.files_not_loaded,
        "warehouse": str(settings.warehouse_path),
    }


def quiet_night(settings: Settings, run_date: date | None) -> dict[str, object] | None:
    """Under the guard (lock, recovery of killed runs, failure record), discover; with nothing new,
    record the run as skipped and return its result; otherwise None (nothing recorded: the flow runs)."""
    summary = RunSummary.begin(run_date)
    with run_logging(summary.run_id), guarded_run(settings, summary):
        summary.stage = "discover"  # where the flow's skipped runs end too
        started = time.perf_counter()
        # as the flow's discover task: its time limit, retries on I/O errors with doubling delays
        discover = Step(
            plan_run,
            "discover",
            settings.timeouts.discover,
            settings.extract_retries,
            [settings.extract_retry_delay_seconds * 2**retry for retry in range(settings.extract_retries)],
        )
        plan = discover(settings, run_date, run_id=summary.run_id)
        if not nothing_new(plan):
            return None  # nothing recorded: the flow records its own run
        summary.stage_seconds["discover"] = round(time.perf_counter() - started, 3)
        summary.apply_plan(plan)
        record_skipped(settings, summary)
        return run_result(settings, summary, plan)
