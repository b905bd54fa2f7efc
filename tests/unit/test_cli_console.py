"""Closing summaries and error texts (journey.console), over the reports the library really returns."""

from __future__ import annotations

from datetime import date

import pytest

from journey.config import Settings
from journey.console import Summary, backfill_summary, duration, error_text, generation_summary, run_line, run_summary
from journey.errors import (
    BuildFailed,
    ConfigError,
    JourneyError,
    LandingError,
    MissingInput,
    UsageError,
    ValidationFailed,
)
from journey.ops.backfill import BackfillStopped
from journey.ops.lock import RunInProgress
from journey.runs import RunPlan, RunSummary
from journey_demo import GenerationReport


def _flow_result(settings: Settings, **counts: int) -> dict[str, object]:
    """A result as the nightly flow returns it (flows.nightly._result over a real RunSummary)."""
    from flows.nightly import _result

    summary = RunSummary.begin(date(2026, 1, 6))
    summary.finish("succeeded")
    for key, value in counts.items():
        setattr(summary, key, value)
    summary.stage_seconds = {"discover": 0.12, "load": 2.6, "dbt": 44.7, "publish": 1.8}
    plan = RunPlan(run_id=summary.run_id, run_date=date(2026, 1, 6), days=(date(2026, 1, 5), date(2026, 1, 6)),
                   files=())
    return _result(settings, summary, plan)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0.04, "0.0s"), (9.94, "9.9s"), (10.4, "10s"), (59.6, "1m 00s"), (191, "3m 11s"), (3725, "1h 02m")],
)
def test_duration(seconds: float, text: str) -> None:
    assert duration(seconds) == text


def test_summary_aligns_labels() -> None:
    text = Summary("done", [("files", "3"), ("warehouse", "/w.duckdb")]).render()
    assert text == "done\n  files:     3\n  warehouse: /w.duckdb"


def test_run_summary_from_the_flow_result(settings: Settings) -> None:
    result = _flow_result(settings, files=18, rows_read=2839, rows_loaded=2814, rows_quarantined=25,
                          checks_passed=511, checks_failed=5, checks_warned=3)
    summary = run_summary(result, 191.0, settings)
    assert summary.title == f"run {result['run_id']} succeeded in 3m 11s (drop days 2026-01-05 … 2026-01-06)"
    assert summary.rows == [
        ("files", "18"),
        ("rows", "2,839 read, 2,814 loaded, 25 quarantined"),
        ("checks", "511 passed, 3 warning(s), 2 row rule(s) that quarantined rows, none blocking "
                   "(see ops.dq_results)"),
        ("stages", "discover 0.1s, load 2.6s, dbt 45s, publish 1.8s"),
        ("warehouse", str(settings.warehouse_path)),
        ("quarantine", "25 row(s) in quarantine.rows: `journey quarantine list`"),
        ("logs", f"{settings.log_dir / 'journey.log'} (runs: {settings.log_dir / 'runs.jsonl'})"),
    ], "no dashboard or docs built yet: not pointed at"
    assert summary.render().splitlines()[2] == "  rows:       2,839 read, 2,814 loaded, 25 quarantined"


def test_run_summary_points_at_sites_that_exist_and_skips_an_empty_quarantine(settings: Settings) -> None:
    (settings.site_dir / "report").mkdir(parents=True)
    (settings.site_dir / "report" / "index.html").write_text("<html></html>", encoding="utf-8")
    result = _flow_result(settings, files=1, rows_read=10, rows_loaded=10)
    rows = dict(run_summary(result, 5.0, settings).rows)
    assert rows["dashboard"] == str(settings.site_dir / "report" / "index.html")
    assert rows["checks"] == "0 passed, 0 failed"
    assert "quarantine" not in rows


def test_skipped_run_says_nothing_new_landed(settings: Settings) -> None:
    result = {"run_id": "r1", "status": "skipped", "days": [], "files": 0, "rows_read": 0, "rows_loaded": 0,
              "rows_quarantined": 0, "checks_passed": 0, "checks_failed": 0, "stage_seconds": {"discover": 0.2},
              "warehouse": str(settings.warehouse_path)}
    title = run_summary(result, 12.0, settings).render().splitlines()[0]
    assert title == "run r1 skipped in 12s: nothing new or changed landed; the published warehouse is up to date"


def test_backfill_totals_add_up_the_runs(settings: Settings) -> None:
    first = _flow_result(settings, files=10, rows_read=1000, rows_loaded=990, rows_quarantined=10,
                         checks_passed=100, checks_failed=2)
    second = {**_flow_result(settings, files=5, rows_read=400, rows_loaded=400, checks_passed=90),
              "days": ["2026-01-07"]}
    assert run_line(second) == (f"run {second['run_id']} succeeded in 49s: 2026-01-07, 5 files, "
                                "400 rows loaded, 0 quarantined")
    summary = backfill_summary([first, second], 130.0, settings)
    assert summary.title == "backfill: 2 run(s) published in 2m 10s (3 drop day(s), 2026-01-05 … 2026-01-07)"
    rows = dict(summary.rows)
    assert (rows["files"], rows["rows"]) == ("15", "1,400 read, 1,390 loaded, 10 quarantined")
    assert rows["checks"] == "190 passed, 2 row rule(s) that quarantined rows, none blocking (see ops.dq_results)"
    assert rows["quarantine"].startswith("10 row(s)")
    assert backfill_summary([], 3.0, settings).title.startswith("nothing to backfill")


def test_generation_summary_groups_rows_by_source(settings: Settings) -> None:
    report = GenerationReport(days=3, files=26, rows={"crm/touches": 1000, "ehr/Encounter": 2000, "ehr/Patient": 500,
                                                      "relations/reviews": 167},
                              defects={"malformed": 14, "duplicate": 21}, seconds=2.5)
    summary = generation_summary(report, "2026-01-05", "2026-01-07", settings)
    assert summary.title == "generated 3 day(s) (2026-01-05 … 2026-01-07) in 2.5s, 1,467 rows/s"
    rows = dict(summary.rows)
    assert (rows["files"], rows["rows"]) == ("26", "3,667 (crm 1,000, ehr 2,500, relations 167)")
    defects = settings.generator_dir / "defects.jsonl"
    assert rows["defects"] == f"duplicate=21, malformed=14 (each with file and row: {defects})"


# --------------------------------------------------------------------------------------------------
# errors: what went wrong, where, what to do next
# --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "error_class", [ConfigError, UsageError, MissingInput, LandingError, ValidationFailed, BuildFailed,
                    RunInProgress, BackfillStopped],
)
def test_every_error_class_says_what_to_do_next(error_class: type[JourneyError]) -> None:
    assert error_class.hint and error_class.hint != JourneyError.hint, f"{error_class.__name__} needs its own hint"
    text = error_text(error_class("something broke"))
    assert text.splitlines()[:2] == ["error: something broke", f"  next:  {error_class.hint}"]


def test_error_names_file_and_rule_when_the_message_does_not(settings: Settings) -> None:
    error = ValidationFailed("the landing batch failed", file="crm/2026-01-05/touches.jsonl",
                             rule="max_quarantine_share")
    settings.log_dir.mkdir(parents=True, exist_ok=True)
    log = settings.log_dir / "journey.log"
    log.write_text("", encoding="utf-8")
    assert error_text(error, log).splitlines() == [
        "error: the landing batch failed",
        "  where: file crm/2026-01-05/touches.jsonl, rule max_quarantine_share",
        f"  next:  {ValidationFailed.hint}",
        f"  log:   {log}",
    ]
    named = ValidationFailed("crm/2026-01-05/touches.jsonl broke [rule: schema]", file="crm/2026-01-05/touches.jsonl",
                             rule="schema")
    assert "where:" not in error_text(named), "a location the message already gives is not repeated"


def test_a_raise_site_can_give_better_advice() -> None:
    error = JourneyError("port 8080 is taken", hint="pick another --port")
    assert error.hint == "pick another --port" and JourneyError.hint != error.hint
    assert error_text(error).splitlines()[1] == "  next:  pick another --port"


@pytest.mark.parametrize(
    ("status", "failed", "warned", "text"),
    [
        ("succeeded", 4, 4, "7 passed, 4 warning(s), none blocking (see ops.dq_results)"),
        ("succeeded", 0, 0, "7 passed, 0 failed"),
        # a failed run's failures are what stopped it: not relabelled
        ("failed", 3, 1, "7 passed, 3 failed"),
    ],
)
def test_checks_line_tells_warnings_from_row_rules(
    settings: Settings, status: str, failed: int, warned: int, text: str
) -> None:
    result = {**_flow_result(settings, files=1, rows_read=1, rows_loaded=1, checks_passed=7,
                             checks_failed=failed, checks_warned=warned), "status": status}
    assert dict(run_summary(result, 1.0, settings).rows)["checks"] == text


def test_a_degraded_run_says_so_with_its_reason(settings: Settings) -> None:
    result = _flow_result(settings, files=2, rows_read=35, rows_loaded=31, rows_quarantined=4,
                          checks_passed=40, checks_failed=1, checks_warned=0)
    reason = "staging/Encounter: 4 of 30 rows landed tonight (13%) were refused [rule: entity_rows_lost]"
    result |= {"status": "degraded", "reason": reason}
    summary = run_summary(result, 12.0, settings)
    assert summary.title.startswith(f"run {result['run_id']} degraded in 12s")
    assert ("checks", "40 passed, 1 row rule(s) that quarantined rows, none blocking (see ops.dq_results)") \
        in summary.rows
    assert ("health", f"published but degraded (exit code 4): {reason}") in summary.rows
    assert run_line(result).endswith(f"4 quarantined — {reason}")


def test_the_last_run_note_names_failed_and_degraded_runs() -> None:
    from journey.console import last_run_note

    ok = {"run_id": "r1", "status": "succeeded", "stage": None, "reason": None}
    failed = {"run_id": "r2", "status": "failed", "stage": "health", "reason": "staging/Encounter: ..."}
    degraded = {"run_id": "r3", "status": "degraded", "stage": None, "reason": "marts/Encounter: ..."}
    assert last_run_note([]) is None and last_run_note([failed, ok]) is None
    assert last_run_note([ok, failed]) == (
        "last run r2 failed at stage health: nothing of it is published, so the rows it refused are not "
        "listed here (`journey quarantine list --run r2` lists them). Reason: staging/Encounter: ...")
    assert last_run_note([degraded]) == "last run r3 was published degraded: marts/Encounter: ..."
