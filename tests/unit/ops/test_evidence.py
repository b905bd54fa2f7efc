"""A run's evidence outside its working copy: the rows it quarantined (named, never their content)
and its check results, plus the errors that stopped it; `journey quarantine list --run` reads it."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from journey.cli import app
from journey.config import Settings
from journey.ops import evidence
from journey.quality.gate import _DQ_DDL
from journey.warehouse.schema import ensure_schema

SINCE = datetime(2026, 3, 3, 2, 0)
REASON = ("1 error-severity check(s) failed at landing; nothing was published:\n"
          "  ehr/2026-03-03/Encounter.ndjson: 3 of 4 rows failed row-level rules, more than the 20% allowed "
          "[rule: max_quarantine_share]")


def _working_copy(path: Path) -> Path:
    """quarantine.rows with an earlier run's row and three of this run's; ops.dq_results of two runs."""
    conn = duckdb.connect(str(path))
    ensure_schema(conn)
    conn.execute(_DQ_DDL)
    rows = [("b0", "2026-03-02", 7, "required:id", datetime(2026, 3, 2, 2)),
            ("b1", "2026-03-03", 4, "required:class.code", SINCE),
            ("b1", "2026-03-03", 2, "required:class.code", SINCE),
            ("b1", "2026-03-03", 3, "malformed_json", datetime(2026, 3, 3, 2, 1))]
    conn.executemany(
        "insert into quarantine.rows values (?, 'ehr', 'encounter', 'ehr/' || ? || '/Encounter.ndjson', ?, ?, ?, "
        "'error', 'Encounter lacks it', '{\"name\": \"Wang Xiuying\"}', 'sha', ?, null)",
        [[batch, day, row, day, rule, stamp] for batch, day, row, rule, stamp in rows])
    conn.executemany(
        "insert into ops.dq_results values (?, 'landing', 'raw.ehr_encounter', 'expect_x', ?, ?, 'row', ?, null, "
        "?, 4, ?, ?)",
        [["r-old", "old_rule", "error", False, 1, SINCE, "old"],
         ["r-new", "encounter_id_unique", "error", True, 0, SINCE, None],
         ["r-new", "class_known", "warn", False, 1, SINCE, "ehr/2026-03-03/Encounter.ndjson row 2"]])
    conn.close()
    return path


def test_a_run_keeps_its_own_rows_and_checks_and_the_errors_that_stopped_it(settings: Settings) -> None:
    work = _working_copy(settings.warehouse_dir / "work.duckdb")
    kept = evidence.save_evidence(settings, "r-new", work, SINCE, "validate", REASON)
    assert kept == evidence.RunEvidence(quarantined=3, checks=3)
    rows, total = evidence.quarantined_rows(settings, "r-new", limit=2)
    assert total == 3
    assert rows == [("ehr/2026-03-03/Encounter.ndjson", 2, "required:class.code", "Encounter lacks it"),
                    ("ehr/2026-03-03/Encounter.ndjson", 3, "malformed_json", "Encounter lacks it")]
    assert evidence.check_counts(settings, "r-new") == (1, 2, 1)
    assert evidence.failed_checks(settings, "r-new") == [
        {"stage": "landing", "severity": "warn", "rule": "class_known", "check": "raw.ehr_encounter expect_x",
         "unexpected": 1, "where": "ehr/2026-03-03/Encounter.ndjson row 2"},
        {"stage": "validate", "severity": "error", "rule": "max_quarantine_share", "check": "", "unexpected": None,
         "where": "ehr/2026-03-03/Encounter.ndjson: 3 of 4 rows failed row-level rules, more than the 20% allowed"},
    ]
    # Evidence names rows; it never holds their content.
    kept_bytes = (evidence.run_dir(settings, "r-new") / "quarantine.parquet").read_bytes()
    assert b"Wang" not in kept_bytes and b"original_values" not in kept_bytes


def test_quarantine_list_of_a_run_reads_its_evidence(settings: Settings) -> None:
    runner = CliRunner()
    evidence.save_evidence(settings, "r-new", _working_copy(settings.warehouse_dir / "work.duckdb"), SINCE,
                           "validate", REASON)
    result = runner.invoke(app, ["quarantine", "list", "--run", "r-new", "--limit", "2"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "ehr/2026-03-03/Encounter.ndjson:2  load  required:class.code  Encounter lacks it",
        "ehr/2026-03-03/Encounter.ndjson:3  load  malformed_json  Encounter lacks it",
        "… 1 more (--limit 3 shows all)",
    ]
    unknown = runner.invoke(app, ["quarantine", "list", "--run", "r-none"])
    assert unknown.exit_code == 1 and "No run r-none" in unknown.output
    assert runner.invoke(app, ["quarantine", "list", "--run", "../etc"]).exit_code == 2


@pytest.mark.parametrize(("reason", "rules"), [
    (REASON, ["max_quarantine_share"]),
    ("dbt build failed: model x", []),
    (None, []),
])
def test_stopping_errors_are_the_reason_lines_naming_a_rule(reason: str | None, rules: list[str]) -> None:
    assert [row[3] for row in evidence.stopping_checks("validate", reason)] == rules
