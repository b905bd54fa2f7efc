"""The nightly Prefect flow: a table of contents over journey's steps (logic lives in src/journey).

    discover → prepare working copy → load the days in order → validate landing → stage → validate staging
             → dbt build → validate marts → run health → docs → record → publish → landing retention

A run ends ``succeeded``, ``degraded`` (published, alerted: run health found part of the night
untrustworthy, journey.quality.health), ``skipped`` (nothing new) or ``failed`` (nothing published).

Around it, ``guarded_run`` holds the warehouse lock, cleans up after killed runs, and on failure
records the run, discards the working copy and sends the webhook alert. Only extraction (discover,
load) retries, with exponential backoff and only on I/O errors; every stage has its own timeout.

Each run is the Prefect flow run named by its run id; its journey log lines (each with the run id)
go to journey.log and to the run's Prefect logs, and it ends by publishing its summary and failed
checks as artifacts (flows/visibility.py; no-ops without a Prefect run).

Without a Prefect server the CLI runs it as plain Python (flows/runner.py: ``step``, ``optional``,
``subflow`` keep the tasks' limits); `journey serve` deploys it on a schedule (flows/deploy.py).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, TypeVar, cast

from prefect import Task, flow, task
from prefect.cache_policies import NONE
from prefect.client.schemas.objects import TaskRun
from prefect.states import State
from prefect.tasks import exponential_backoff

from flows.runner import optional, step, subflow
from flows.visibility import current_run_id, publish_artifacts, run_logs_in_prefect, run_name
from journey.config import Settings, apply_runtime_env
from journey.logs import configure_logging, run_logging
from journey.ops.alerts import send_alert
from journey.ops.backfill import BackfillStopped, backfill_segments, stopped_message
from journey.ops.guard import alert_for, describe, guarded_run
from journey.ops.quiet import nothing_new, record_skipped, run_result
from journey.privacy.retention import apply_retention
from journey.quality.gate import GateReport, validate_stage
from journey.quality.health import HealthReport, check_run_health
from journey.quality.replay import ReplayReport, reinstate_quarantined
from journey.report.build import build_report
from journey.report.docs_site import write_site_index
from journey.runs import (
    DayLoad,
    RunPlan,
    RunSummary,
    load_days,
    mark_stage,
    plan_run,
    publish_run,
    record_run,
    run_stamp,
)
from journey.transform.dbt import DbtResult, build_docs_site, nightly_build_args, run_dbt, run_staging
from journey.warehouse.publish import prepare_working_copy

T = TypeVar("T")

# Tasks never cache (the warehouse is the state); options come from the settings (stage_tasks).
plan_task = task(name="discover", cache_policy=NONE)(plan_run)
prepare_task = task(name="prepare-working-copy", cache_policy=NONE)(prepare_working_copy)
load_task = task(name="load", cache_policy=NONE)(load_days)
dbt_task = task(name="dbt", cache_policy=NONE)(run_dbt)
staging_task = task(name="dbt-staging", cache_policy=NONE)(run_staging)
validate_task = task(name="validate", cache_policy=NONE)(validate_stage)
health_task = task(name="run-health", cache_policy=NONE)(check_run_health)
replay_task = task(name="replay-quarantine", cache_policy=NONE)(reinstate_quarantined)
report_task = task(name="report", cache_policy=NONE)(build_report)
site_index_task = task(name="site-index", cache_policy=NONE)(write_site_index)
retention_task = task(name="landing-retention", cache_policy=NONE)(apply_retention)
docs_task = task(name="docs", cache_policy=NONE)(build_docs_site)
publish_task = task(name="publish", cache_policy=NONE)(publish_run)


def retry_on_io_error(task: Task[..., Any], task_run: TaskRun, state: State[Any]) -> bool:
    """Retry extraction on I/O errors (flaky share, file still being written), not on bad data or timeouts."""
    error = state.result(raise_on_failure=False)
    return isinstance(error, OSError) and not isinstance(error, TimeoutError)


def extraction_options(settings: Settings) -> dict[str, Any]:
    return {
        "retries": settings.extract_retries,
        "retry_delay_seconds": exponential_backoff(settings.extract_retry_delay_seconds),
        "retry_condition_fn": retry_on_io_error,
    }


@dataclass(frozen=True)
class StageTasks:
    plan: Task[..., RunPlan]
    prepare: Task[..., Path]
    load: Task[..., list[DayLoad]]
    stage: Task[..., DbtResult]
    validate: Task[..., GateReport]
    health: Task[..., HealthReport]
    build: Task[..., DbtResult]
    docs: Task[..., Path]
    publish: Task[..., Path]

    def load_for(self, days: int) -> Task[..., list[DayLoad]]:
        """The load task for a run of ``days`` drop days. One task loads every day of the run (one
        connection, no task round-trip per day), so its time limit is the per-day limit times the days."""
        per_day = self.load.timeout_seconds
        return self.load.with_options(timeout_seconds=per_day * max(1, days) if per_day else None)


def stage_tasks(settings: Settings) -> StageTasks:
    """The tasks with this site's timeouts and retries (only discover and load retry)."""
    limit = settings.timeouts
    tasks = StageTasks(
        plan=plan_task.with_options(timeout_seconds=limit.discover, **extraction_options(settings)),
        prepare=prepare_task.with_options(timeout_seconds=limit.publish),
        load=load_task.with_options(timeout_seconds=limit.load, **extraction_options(settings)),
        stage=staging_task.with_options(timeout_seconds=limit.stage),
        validate=validate_task.with_options(timeout_seconds=limit.validate_),
        health=health_task.with_options(timeout_seconds=limit.validate_),
        build=dbt_task.with_options(name="dbt-build", timeout_seconds=limit.dbt),
        docs=docs_task.with_options(timeout_seconds=limit.docs),
        publish=publish_task.with_options(timeout_seconds=limit.publish),
    )
    return StageTasks(**{name: step(task) for name, task in vars(tasks).items()})  # plain run: flows/runner.py


def _timed(settings: Settings, summary: RunSummary, stage: str, step: Callable[[], T]) -> T:
    mark_stage(settings, summary, stage)
    started = time.perf_counter()
    try:
        return step()
    finally:
        summary.stage_seconds[stage] = round(summary.stage_seconds.get(stage, 0.0) + time.perf_counter() - started, 3)


@flow(name="journey-nightly", log_prints=False, flow_run_name=run_name)
def nightly(
    run_date: date | None = None, start: date | None = None, end: date | None = None,
    rebuild: bool = False, docs: bool = True,
    replay: bool = False, replay_file: str | None = None, replay_rule: str | None = None,
) -> dict[str, object]:
    """Load every landed file not yet loaded up to ``run_date`` (or [start, end]), build, check, publish.

    ``rebuild`` rebuilds and republishes the marts even when nothing new landed; ``docs`` builds the
    dbt docs site. ``replay`` first puts rows quarantined by a quality rule (optionally of one file
    / one rule) back into raw, so they are validated again (see journey.quality.replay).
    """
    settings = Settings()
    apply_runtime_env(settings)
    settings.ensure_dirs()
    configure_logging(settings)  # however Prefect runs this body (serve, a worker, a test)
    summary = RunSummary.begin(run_date, end, run_id=current_run_id())
    with run_logging(summary.run_id), run_logs_in_prefect():
        try:
            return _nightly(settings, summary, run_date, start, end, rebuild, docs, replay, replay_file, replay_rule)
        finally:
            publish_artifacts(settings, summary)  # failed runs too: from the evidence record_run kept


def _nightly(
    settings: Settings, summary: RunSummary, run_date: date | None, start: date | None, end: date | None,
    rebuild: bool, docs: bool, replay: bool, replay_file: str | None, replay_rule: str | None,
) -> dict[str, object]:
    tasks = stage_tasks(settings)
    with guarded_run(settings, summary):
        plan: RunPlan = _timed(settings, summary, "discover", lambda: tasks.plan(
            settings, run_date, start=start, end=end, run_id=summary.run_id))
        summary.apply_plan(plan)
        if nothing_new(plan, rebuild=rebuild, replay=replay):  # the published warehouse is up to date
            record_skipped(settings, summary)
            return _result(settings, summary, plan)
        work: Path = _timed(settings, summary, "prepare", lambda: tasks.prepare(settings))
        loaded_at = summary.loaded_at = run_stamp(settings, work)
        load_all = tasks.load_for(len(plan.days))
        loads: list[DayLoad] = _timed(settings, summary, "load", lambda: load_all(settings, work, plan, loaded_at))
        summary.add_loads(loads)
        batches = [batch for load in loads for batch in load.batch_ids]
        if replay:
            replayed: ReplayReport = _timed(settings, summary, "replay", lambda: step(replay_task)(
                settings, work, now=loaded_at, path=replay_file, rule=replay_rule))
            batches += [batch for batch in replayed.batch_ids if batch not in batches]
        landed: GateReport = _timed(
            settings, summary, "validate", lambda: tasks.validate(settings, work, "landing", batches, plan.run_id)
        )
        _timed(settings, summary, "stage", lambda: tasks.stage(settings, work, rebuild=rebuild))
        staged: GateReport = _timed(
            settings, summary, "validate", lambda: tasks.validate(settings, work, "staging", batches, plan.run_id)
        )
        # A rebuild is a full refresh: incremental facts are recomputed (seed edits, model changes).
        build_args = nightly_build_args(rebuild=rebuild)
        built: DbtResult = _timed(settings, summary, "dbt", lambda: tasks.build(settings, work, *build_args))
        marts: GateReport = _timed(
            settings, summary, "validate", lambda: tasks.validate(settings, work, "marts", batches, plan.run_id)
        )
        health: HealthReport = _timed(
            settings, summary, "health", lambda: tasks.health(settings, work, batches, plan.run_id)
        )
        if docs:
            _timed(settings, summary, "docs", lambda: tasks.docs(settings, work))
        summary.rows_quarantined += staged.rows_quarantined
        summary.rows_loaded -= staged.rows_quarantined
        summary.checks_passed = landed.passed + staged.passed + marts.passed + built.succeeded
        summary.checks_failed = landed.failed + staged.failed + marts.failed
        summary.checks_warned = landed.warnings + staged.warnings + marts.warnings
        _timed(settings, summary, "publish",
               lambda: tasks.publish(settings, summary, work, health.status, health.reason))
        summary.finish(health.status, health.reason)
        record_run(settings, summary)
        if summary.status == "degraded":
            send_alert(settings, alert_for(summary))  # published, but someone must look
        if docs:
            # The managers' dashboard from what was just published; a chart failing never fails a
            # run whose data is already published and correct.
            optional(report_task, settings)
            optional(site_index_task, settings)  # site/index.html: dashboard, dbt docs, quality docs
        if settings.landing_retention_days:
            # After publish, under the run lock: only files the published manifest holds can go.
            step(retention_task)(settings)
    return _result(settings, summary, plan)


@flow(name="journey-backfill", log_prints=False)
def backfill(start: date | None = None, end: date | None = None) -> list[dict[str, object]]:
    """Every pending drop day in [start, end], in order, one publishing nightly run per segment.

    Stops at the first failed segment; running it again resumes at that segment's first day.
    """
    settings = Settings()
    apply_runtime_env(settings)
    settings.ensure_dirs()
    configure_logging(settings)
    segments = backfill_segments(settings, start, end)
    results: list[dict[str, object]] = []
    for index, (first, last) in enumerate(segments):
        try:
            results.append(subflow(nightly)(start=first, end=last, docs=index == len(segments) - 1))
        except Exception as error:
            published = sum(len(cast(list[str], result["days"])) for result in results)
            raise BackfillStopped(stopped_message((first, last), published, describe(error))) from error
    return results


def _result(settings: Settings, summary: RunSummary, plan: RunPlan) -> dict[str, object]:
    return run_result(settings, summary, plan)
