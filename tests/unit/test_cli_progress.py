"""Progress bars: only on a terminal, driven by real generator days and real loader events."""

from __future__ import annotations

import io
import logging
import re
from datetime import UTC, date, datetime

import duckdb
import pytest
from typer.testing import CliRunner

from journey import runs
from journey.cli import app
from journey.config import Settings
from journey.ingest.landing import discover
from journey.ingest.loader import batch_id_for
from journey.progress import LOADED, RunFollower, bars_enabled, pending_days, progress, split_runs
from journey.runs import plan_run
from journey.warehouse.publish import prepare_working_copy
from journey.warehouse.schema import ensure_schema
from journey_demo import generate

START = date(2026, 3, 2)


class Terminal(io.StringIO):
    """A stream that says it is a terminal (what a person's shell gives the command)."""

    def isatty(self) -> bool:
        return True


class Recorder:
    """A Bar that keeps what it was told."""

    def __init__(self) -> None:
        self.steps = 0
        self.texts: list[str] = []

    def advance(self, steps: int = 1) -> None:
        self.steps += steps

    def describe(self, text: str) -> None:
        self.texts.append(text)


def test_bars_only_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TERM", "xterm-256color")
    assert bars_enabled(Terminal()) and not bars_enabled(io.StringIO())
    monkeypatch.setenv("TERM", "dumb")
    assert not bars_enabled(Terminal())


def test_a_bar_draws_on_a_terminal_and_writes_nothing_elsewhere(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TERM", "xterm-256color")
    terminal, log_file = Terminal(), io.StringIO()
    with progress("loading", 4, unit="days", stream=terminal) as bar:
        bar.advance()
        bar.describe("loaded 2026-03-02")
        bar.advance(5)  # past the estimated total: the total grows, the bar never overflows
    drawn = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", terminal.getvalue())
    assert "loading" in drawn and "0/4 days" in drawn
    assert "loaded 2026-03-02" in drawn and "6/6 days" in drawn
    with progress("loading", 4, unit="days", stream=log_file) as bar:
        bar.advance()
    assert log_file.getvalue() == ""
    with progress("loading", 4, unit="days", stream=terminal, enabled=False) as bar:
        assert type(bar).__name__ == "_NoBar"


def test_log_lines_print_above_the_bar_and_handlers_are_restored(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TERM", "xterm-256color")
    terminal = Terminal()
    handler = logging.StreamHandler(terminal)
    logger = logging.getLogger("journey.test_progress")
    logger.addHandler(handler)
    try:
        with progress("loading", 2, unit="days", stream=terminal):
            assert handler.stream is not terminal, "routed through the live display"
            logger.warning("check warned: crm/2026-03-02/touches.jsonl row 4")
        assert handler.stream is terminal
    finally:
        logger.removeHandler(handler)
    assert "check warned: crm/2026-03-02/touches.jsonl row 4\n" in terminal.getvalue()


def test_generation_reports_each_simulated_day(settings: Settings) -> None:
    days: list[int] = []
    generate(settings.landing_dir, settings.generator_dir, start=START, days=3, scale=0.02, seed=7,
             on_day=days.append)
    assert days == [1, 2, 3]


def test_generate_command_prints_a_summary_and_no_bar_when_not_a_terminal(settings: Settings) -> None:
    result = CliRunner().invoke(app, ["generate", "--days", "2", "--scale", "0.02", "--start", "2026-03-02"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("generated 2 day(s) (2026-03-02 … 2026-03-03) in ")
    assert ["landing:", str(settings.landing_dir)] in [line.split() for line in lines]
    assert "\x1b[" not in result.output and "\r" not in result.output, "no terminal control codes in captured output"


def test_run_follower_counts_what_the_loader_reports(settings: Settings) -> None:
    """The follower reads journey's real log events: files and rows as the loader logs them, one step per day."""
    generate(settings.landing_dir, settings.generator_dir, start=START, days=2, scale=0.02, seed=7)
    assert pending_days(settings) == 2
    assert pending_days(settings, start=date(2026, 3, 3)) == 1
    assert pending_days(settings, run_date=START) == 1
    plan = plan_run(settings)
    work = prepare_working_copy(settings)
    bar = Recorder()
    follower = RunFollower(bar, days_per_run=[2])
    logger = logging.getLogger("journey")
    previous_level = logger.level
    logger.setLevel(logging.INFO)
    logger.addHandler(follower)
    try:
        loaded_at = datetime.now(UTC).replace(tzinfo=None)
        loaded = runs.load_days(settings, work, plan, loaded_at)
    finally:
        logger.removeHandler(follower)
        logger.setLevel(previous_level)
    assert follower.days == 2
    assert bar.steps == LOADED, "both days loaded: the load stage's share, not the whole bar"
    assert follower.files == sum(day.files for day in loaded) == len(plan.files)
    assert follower.rows == sum(day.rows_read for day in loaded) > 0
    assert bar.texts[-1] == f"loaded {plan.days[-1]}"
    assert f"loading: {follower.files:,} files, {follower.rows:,} rows" in bar.texts


def test_pending_days_counts_the_days_the_run_will_load(settings: Settings) -> None:
    """The bar's total is the run plan's day count: a day with a late (unloaded) file counts even when
    other files of that day are already published; a plan that fails leaves the bar without a total."""
    generate(settings.landing_dir, settings.generator_dir, start=START, days=2, scale=0.02, seed=7)
    first_day = discover(settings.landing_dir, [START])
    assert len(first_day) > 1
    with duckdb.connect(str(settings.warehouse_path)) as conn:
        ensure_schema(conn)
        for landed in first_day[:-1]:  # the last file of the first day is still to load (a late file)
            conn.execute(
                "insert into raw.load_manifest values (?, 'r1', ?, ?, ?, ?, ?, 'utf-8', 1, 1, 0, 0, 'loaded', null,"
                " timestamp '2026-03-03 01:00', null, null)",
                [batch_id_for(landed), landed.source, landed.landing_date, landed.relative_path,
                 landed.size_bytes, landed.sha256],
            )
    assert pending_days(settings) == 2
    assert pending_days(settings, run_date=START) == 1
    last = first_day[-1].path
    link = last.with_name("linked-" + last.name)
    link.symlink_to(last)  # a symlink is refused and named, and costs the plan nothing
    assert pending_days(settings) == 2
    mapping = settings.root / "mapping" / "code_map.csv"
    mapping.parent.mkdir(parents=True, exist_ok=True)
    mapping.write_text("not,a,code,map\n")  # an invalid code map: the plan fails, the bar has no total
    assert pending_days(settings) is None


def _log(name: str, template: str, *args: object) -> None:
    logging.getLogger(name).info(template, *args)


def test_the_bar_is_weighted_by_stage_not_by_days_loaded() -> None:
    """Issue #26: the bar sat at 100 % for 77 % of a run. Now it moves through load, gates, dbt and
    docs with each stage's share, as a run logs them (the library's own templates, in a run's order)."""
    bar = Recorder()
    logger = logging.getLogger("journey")
    previous_level = logger.level
    logger.setLevel(logging.INFO)
    follower = RunFollower(bar, days_per_run=[4, 1])
    logger.addHandler(follower)
    seen: list[int] = []
    try:
        for day in ("2026-03-01", "2026-03-02", "2026-03-03", "2026-03-04"):
            _log("journey.runs", "loaded day %s: %d files, %d rows read, %d loaded, %d quarantined", day, 8, 1, 1, 0)
            seen.append(bar.steps)
        for name, template, *args in [
            ("journey.quality.gate", "validated %s: %d passed, %d failed, %d warnings, %d rows quarantined",
             "landing", 1, 0, 0, 0),
            ("journey.transform.dbt", "dbt %s", "build --select +staging"),
            ("journey.transform.dbt", "dbt %s done", "build"),
            ("journey.quality.gate", "validated %s: %d passed, %d failed, %d warnings, %d rows quarantined",
             "staging", 1, 0, 0, 0),
            ("journey.transform.dbt", "dbt %s", "build --exclude-resource-type unit_test"),
            ("journey.transform.dbt", "dbt %s done", "build"),
            ("journey.quality.gate", "validated %s: %d passed, %d failed, %d warnings, %d rows quarantined",
             "marts", 1, 0, 0, 0),
            ("journey.transform.dbt", "dbt %s done", "docs"),
            ("journey.runs", "run %s %s", "r1", "succeeded"),
            # the backfill's second run (1 day) finds its docs current and ends
            ("journey.runs", "loaded day %s: %d files, %d rows read, %d loaded, %d quarantined", "2026-03-05", 8, 1, 1,
             0),
            ("journey.transform.dbt", "dbt docs site is current (project unchanged): not rebuilt"),
            ("journey.runs", "run %s %s", "r2", "succeeded"),
        ]:
            _log(name, template, *args)
            seen.append(bar.steps)
    finally:
        logger.removeHandler(follower)
        logger.setLevel(previous_level)
    # 4 days load 10 %; gates 5 + 10 + 5; staging 25; dbt build 30; docs 13; the run's end 2
    assert seen == [2, 5, 7, 10, 15, 15, 40, 50, 50, 80, 85, 98, 100, 110, 198, 200]
    assert seen[3] == LOADED == 10, "every day loaded is 10 % of the run, not 100 %"


@pytest.mark.parametrize(("days", "per_run", "expected"),
                         [(None, None, [0]), (0, 31, [0]), (5, None, [5]), (70, 31, [31, 31, 8]), (3, 1, [1, 1, 1])])
def test_split_runs_follows_the_backfill_segments(days: int | None, per_run: int | None, expected: list[int]) -> None:
    assert split_runs(days, per_run) == expected
