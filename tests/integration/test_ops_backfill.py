"""`journey backfill` processes days in order, publishes as it goes, and after a failure resumes at the
first unfinished day (days already published are not loaded again)."""

from __future__ import annotations

from datetime import date, timedelta

import duckdb
import pytest
from typer.testing import CliRunner

from journey.cli import app
from journey.config import Settings
from journey.ops.runlog import read_runs
from journey_demo import generate

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("prefect")]

START = date(2026, 3, 2)
DAYS = [START + timedelta(days=offset) for offset in range(3)]


def _runs_by_day(settings: Settings) -> dict[str, set[str]]:
    """Which run loaded each drop day's files, from the published manifest."""
    conn = duckdb.connect(str(settings.warehouse_path), read_only=True)
    try:
        rows = conn.execute("select landing_date, run_id from raw.load_manifest where status <> 'superseded'")
        loaded: dict[str, set[str]] = {}
        for day, run_id in rows.fetchall():
            loaded.setdefault(day.isoformat(), set()).add(run_id)
        return loaded
    finally:
        conn.close()


def test_backfill_stops_at_a_bad_day_and_resumes_there(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JOURNEY_BACKFILL_DAYS_PER_RUN", "1")
    generate(settings.landing_dir, settings.generator_dir, start=START, days=3, scale=0.02, seed=7)
    bad = settings.landing_dir / "crm" / DAYS[1].isoformat() / "touches.jsonl"
    good_bytes = bad.read_bytes()
    bad.write_text("garbage from a broken export\n" * 30, encoding="utf-8")
    runner = CliRunner()

    stopped = runner.invoke(app, ["backfill"])
    assert stopped.exit_code != 0
    assert f"backfill stopped at {DAYS[1]}" in stopped.output and f"resumes at {DAYS[1]}" in stopped.output
    assert "max_quarantine_share" in stopped.output
    loaded = _runs_by_day(settings)
    assert sorted(loaded) == [DAYS[0].isoformat()], "day 1 is published, the bad day and the one after are not"
    (day_one_run,) = loaded[DAYS[0].isoformat()]
    outcomes = [(run["status"], run["stage"]) for run in read_runs(settings)]
    assert outcomes == [("succeeded", None), ("failed", "validate")]

    bad.write_bytes(good_bytes)  # the hospital re-sends a good file
    monkeypatch.setenv("JOURNEY_BACKFILL_DAYS_PER_RUN", "7")  # the rest in one run (one dbt build: a faster test)
    resumed = runner.invoke(app, ["backfill"])
    assert resumed.exit_code == 0, resumed.output
    loaded = _runs_by_day(settings)
    assert sorted(loaded) == [day.isoformat() for day in DAYS]
    assert loaded[DAYS[0].isoformat()] == {day_one_run}, "day 1 was not loaded again"
    new_runs = read_runs(settings)[2:]
    assert [(run["status"], run["first_day"], run["last_day"]) for run in new_runs] == [
        ("succeeded", DAYS[1], DAYS[2])
    ], "the resumed backfill starts at the bad day"
    assert (settings.site_dir / "dbt" / "index.html").is_file(), "the last run of a backfill builds the docs"

    nothing = runner.invoke(app, ["backfill"])
    assert nothing.exit_code == 0 and "nothing to backfill" in nothing.output
