"""The `journey` command's help and its errors, through click's test runner on real cases (a missing
data dir, a held run lock, impossible dates, an unknown table, a bad setting)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pytest
import typer
from typer.testing import CliRunner

from journey.cli import app
from journey.config import Settings
from journey.errors import ConfigError, MissingInput
from journey.ops.lock import RunInProgress, acquire_run_lock


def _commands() -> list[tuple[list[str], Any]]:
    """Every command and subcommand, with its path (the group itself included)."""
    found: list[tuple[list[str], Any]] = []

    def walk(path: list[str], command: Any) -> None:
        found.append((path, command))
        for name, sub in getattr(command, "commands", {}).items():
            walk([*path, name], sub)

    walk([], typer.main.get_command(app))
    return found


COMMANDS = _commands()


def test_every_command_is_covered() -> None:
    names = {" ".join(path) for path, _ in COMMANDS}
    assert {"", "run", "backfill", "generate", "report", "worklist", "docs", "privacy-scan", "retention",
            "quarantine list", "quarantine replay"} <= names


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=[" ".join(p) or "journey" for p, _ in COMMANDS])
def test_help_has_examples_of_the_command_itself(path: list[str], command: Any) -> None:
    assert command.epilog and command.epilog.startswith("Examples:"), "each command's help ends with examples"
    examples = [line.strip() for line in command.epilog.splitlines()[1:] if line.strip()]
    invocation = " ".join(["journey", *path])
    assert examples and all(invocation in line for line in examples), examples
    if command.context_settings.get("help_option_names") == []:
        return  # `journey mf --help` is MetricFlow's own help
    result = CliRunner().invoke(app, [*path, "--help"], prog_name="journey")
    assert result.exit_code == 0, result.output
    assert "Usage: journey" in result.output and "Examples:" in result.output
    assert examples[0].split("#")[0].strip() in " ".join(result.output.split()), "the examples render"


def test_help_paragraphs_are_reflowed_not_broken_mid_sentence() -> None:
    (run,) = [command for path, command in COMMANDS if path == ["run"]]
    first, second, *_ = run.help.split("\n\n")
    assert first.endswith("any late files for earlier days, check, build the marts, publish.") and "\n" not in first
    assert second.startswith("A failed run leaves the published warehouse untouched.")


# --------------------------------------------------------------------------------------------------
# errors: message, where, next step, exit code
# --------------------------------------------------------------------------------------------------
def test_missing_data_dir_says_how_to_start_and_creates_nothing(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    missing = tmp_path / "nowhere"
    monkeypatch.setenv("JOURNEY_DATA_DIR", str(missing))
    for args in (["run"], ["backfill"], ["report"], ["quarantine", "list"], ["retention", "--dry-run"]):
        result = CliRunner().invoke(app, args)
        assert result.exit_code == ConfigError.exit_code == 2, result.output  # README: a bad setting is 2
        assert result.output.splitlines()[:2] == [
            f"error: No data dir at {missing} (JOURNEY_DATA_DIR={missing}).",
            f"  next:  {MissingInput.hint}",
        ]
    assert not missing.exists(), "a failing command does not create the data dir"


def test_a_held_run_lock_exits_3_naming_the_holder(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JOURNEY_RUN_LOCK_WAIT_SECONDS", "0")
    held = acquire_run_lock(settings, "nightly-20260301", wait_seconds=0)
    try:
        result = CliRunner().invoke(app, ["retention", "--days", "30"])
    finally:
        held.release()
    assert result.exit_code == RunInProgress.exit_code == 3, result.output
    first, *rest = result.output.splitlines()
    assert first.startswith("error: another journey run is writing the warehouse")
    assert "run nightly-20260301 (pid " in first and str(settings.warehouse_dir / ".run.lock") in first
    assert f"  next:  {RunInProgress.hint}" in rest
    assert f"  log:   {settings.log_dir / 'journey.log'}" in rest
    again = CliRunner().invoke(app, ["retention", "--days", "30"])
    assert again.exit_code == 0 and "retention 30 days" in again.output, "released: the pass runs"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["run", "--date", "2026-02-30"],
         "Invalid value for '--date': 2026-02-30 is not a day of the calendar (day is out of range for month)"),
        (["run", "--date", "2026-13-01"],
         "Invalid value for '--date': 2026-13-01 is not a day of the calendar (month must be in 1..12); "
         "write YYYY-MM-DD."),
        (["backfill", "--start", "2026-3-1x"],
         "Invalid value for '--start': '2026-3-1x' is not a date: write it as YYYY-MM-DD, e.g. 2026-03-01."),
        (["worklist", "--date", "03/01/2026"], "Invalid value for '--date': '03/01/2026' is not a date"),
        (["backfill", "--start", "2026-02-01", "--end", "2026-01-01"], "--start 2026-02-01 is after --end 2026-01-01"),
        (["generate", "--days", "0"], "Invalid value for '--days'"),
    ],
)
def test_impossible_dates_and_values_are_usage_errors(settings: Settings, args: list[str], message: str) -> None:
    result = CliRunner().invoke(app, args, terminal_width=200)
    assert result.exit_code == 2, result.output
    assert message in " ".join(result.output.replace("│", " ").split())
    assert "Value error" not in result.output, "journey's wording, not pydantic's"
    assert not settings.warehouse_path.exists()


@pytest.mark.parametrize("args", [["run"], ["backfill"]])
def test_a_run_before_journey_init_says_to_init_and_exits_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str]
) -> None:
    empty = tmp_path / "fresh"
    empty.mkdir()
    monkeypatch.setenv("JOURNEY_DATA_DIR", str(empty))
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2, result.output
    assert result.output.splitlines()[:2] == [
        f"error: {empty} is not set up for journey yet (no landing/ folder).",
        "  next:  Run `journey init` there first (or set JOURNEY_DATA_DIR to your data dir).",
    ]
    assert sorted(path.name for path in empty.iterdir()) == [], "nothing created"


def test_an_unknown_table_is_a_clean_error(settings: Settings) -> None:
    duckdb.connect(str(settings.warehouse_path)).close()  # an (empty) published warehouse
    result = CliRunner().invoke(app, ["sql", "select * from marts.no_such_table"])
    assert result.exit_code == 1, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("error: query failed: CatalogException:") and "no_such_table" in lines[0]
    assert any(line.startswith('  next:  `journey sql "show all tables"`') for line in lines)
    assert "Traceback" not in result.output


def test_no_published_warehouse_says_to_backfill(settings: Settings) -> None:
    result = CliRunner().invoke(app, ["quarantine", "list"])
    assert result.exit_code == 1
    assert result.output.splitlines()[:2] == [
        f"error: No published warehouse at {settings.warehouse_path}: nothing has been published there yet.",
        "  next:  Run `journey run` (or `journey backfill` for every landed day) to load, build and publish it; "
        "for a demo hospital, `make demo`.",
    ]


def test_a_bad_setting_names_the_variable(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JOURNEY_THRESHOLDS__MAX_WAIT_HOURS", "two days")
    result = CliRunner().invoke(app, ["info"])
    assert result.exit_code == ConfigError.exit_code == 2
    assert result.output.startswith("error: invalid setting: JOURNEY_THRESHOLDS__MAX_WAIT_HOURS: Input should be")
    assert f"  next:  {ConfigError.hint}" in result.output.splitlines()


def test_a_permission_error_hint_names_the_file_not_timeouts(settings: Settings) -> None:
    """Issue #21: a file or folder the run cannot read said "raise JOURNEY_TIMEOUTS__<STAGE>"."""
    from journey.cli import _flow_failed

    error = _flow_failed(settings, PermissionError(13, "Permission denied", "/landing/ehr/2026-03-02"))
    assert "timeout" not in (error.hint or "").lower()
    assert "read access to /landing/ehr/2026-03-02" in (error.hint or "")
    assert "JOURNEY_TIMEOUTS__" in (_flow_failed(settings, TimeoutError("stage load")).hint or "")
