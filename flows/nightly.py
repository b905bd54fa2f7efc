"""The nightly Prefect flow: a table of contents over journey's steps (logic lives in src/journey).

    plan → prepare working copy → load each day in order → stage → validate staging
         → dbt build → validate marts → docs → record → publish

Runs without a Prefect server (Prefect starts a temporary local API); `journey serve` deploys it on a
schedule against a real server.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TypeVar

from prefect import flow, task
from prefect.cache_policies import NONE

from journey.config import Settings, apply_runtime_env
from journey.quality.gate import GateReport, validate_stage
from journey.runs import DayLoad, RunPlan, RunSummary, load_day, plan_run, record_run
from journey.transform.dbt import DbtResult, build_docs_site, run_dbt
from journey.warehouse.publish import discard_working_copy, prepare_working_copy, publish

T = TypeVar("T")

# Tasks never cache (the warehouse is the state) and only I/O steps retry.
plan_task = task(plan_run, name="discover", cache_policy=NONE, retries=2, retry_delay_seconds=[5, 30])
prepare_task = task(prepare_working_copy, name="prepare-working-copy", cache_policy=NONE)
load_task = task(load_day, name="load-day", cache_policy=NONE)
dbt_task = task(run_dbt, name="dbt", cache_policy=NONE)
validate_task = task(validate_stage, name="validate", cache_policy=NONE)
docs_task = task(build_docs_site, name="docs", cache_policy=NONE)
record_task = task(record_run, name="record-run", cache_policy=NONE)
publish_task = task(publish, name="publish", cache_policy=NONE)


def _timed(summary: RunSummary, stage: str, step: Callable[[], T]) -> T:
    summary.stage = stage
    started = time.perf_counter()
    try:
        return step()
    finally:
        summary.stage_seconds[stage] = round(summary.stage_seconds.get(stage, 0.0) + time.perf_counter() - started, 3)


@flow(name="journey-nightly", log_prints=False)
def nightly(run_date: date | None = None, start: date | None = None, end: date | None = None) -> dict[str, object]:
    """Load every landed file not yet loaded up to ``run_date`` (or [start, end]), build, check, publish."""
    settings = Settings()
    apply_runtime_env(settings)
    settings.ensure_dirs()
    loaded_at = datetime.now(UTC).replace(tzinfo=None)
    plan: RunPlan = plan_task(settings, run_date, start=start, end=end)
    summary = RunSummary(
        run_id=plan.run_id, run_date=plan.run_date, started_at=loaded_at,
        first_day=plan.days[0] if plan.days else None, last_day=plan.days[-1] if plan.days else None,
    )
    if not plan.files:
        # Nothing new or changed landed: the published warehouse is already up to date.
        summary.status, summary.reason = "skipped", "no new or changed files in landing"
        summary.finished_at = datetime.now(UTC).replace(tzinfo=None)
        record_task(settings, summary, None)
        return _result(settings, summary, plan)
    work: Path | None = None
    try:
        work = _timed(summary, "prepare", lambda: prepare_task(settings))
        loads: list[DayLoad] = [
            _timed(summary, "load", lambda day=day: load_task(settings, work, plan, day, loaded_at))
            for day in plan.days
        ]
        summary.add_loads(loads)
        batches = [batch for load in loads for batch in load.batch_ids]
        _timed(summary, "stage", lambda: dbt_task(settings, work, "run", "--select", "staging"))
        staged: GateReport = _timed(
            summary, "validate", lambda: validate_task(settings, work, "staging", batches, plan.run_id)
        )
        built: DbtResult = _timed(summary, "dbt", lambda: dbt_task(settings, work, "build"))
        marts: GateReport = _timed(
            summary, "validate", lambda: validate_task(settings, work, "marts", batches, plan.run_id)
        )
        _timed(summary, "docs", lambda: docs_task(settings, work))
        summary.rows_quarantined += staged.rows_quarantined
        summary.rows_loaded -= staged.rows_quarantined
        summary.checks_passed = staged.passed + marts.passed + built.succeeded
        summary.checks_failed = staged.failed + marts.failed
        summary.status, summary.stage = "succeeded", None
        summary.finished_at = datetime.now(UTC).replace(tzinfo=None)
        record_task(settings, summary, work)
        _timed(summary, "publish", lambda: publish_task(settings))
    except BaseException as error:
        summary.status = "failed"
        summary.reason = str(error)[:4000]
        summary.finished_at = datetime.now(UTC).replace(tzinfo=None)
        record_run(settings, summary, None)
        discard_working_copy(settings)
        raise
    return _result(settings, summary, plan)


def _result(settings: Settings, summary: RunSummary, plan: RunPlan) -> dict[str, object]:
    return {
        "run_id": summary.run_id, "status": summary.status, "days": [d.isoformat() for d in plan.days],
        "files": summary.files, "rows_read": summary.rows_read, "rows_loaded": summary.rows_loaded,
        "rows_quarantined": summary.rows_quarantined, "checks_passed": summary.checks_passed,
        "checks_failed": summary.checks_failed, "stage_seconds": summary.stage_seconds,
        "warehouse": str(settings.warehouse_path),
    }
