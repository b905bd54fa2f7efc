"""Input safety: nothing outside the landing root is read (no traversal, no symlink escapes), and
user- or file-supplied values reach SQL only as bound parameters or validated identifiers."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from journey.config import Settings
from journey.errors import ConfigError, LandingError
from journey.ingest.landing import landed_days, safe_path, survey
from journey.privacy.identifiers import quote_identifier, validated_identifier
from journey.quality.gate import load_suites
from journey.quality.replay import reinstate
from journey.warehouse.schema import ensure_schema

DAY = date(2026, 1, 5)


@pytest.fixture
def landing(tmp_path: Path) -> Path:
    root = tmp_path / "landing"
    (root / "ehr" / DAY.isoformat()).mkdir(parents=True)
    (root / "ehr" / DAY.isoformat() / "Encounter.ndjson").write_text("{}\n")
    (tmp_path / "secrets").mkdir()
    (tmp_path / "secrets" / "Patient.ndjson").write_text('{"resourceType": "Patient"}\n')
    return root


def test_safe_path_refuses_traversal_out_of_the_root(landing: Path) -> None:
    with pytest.raises(LandingError, match="outside the landing root"):
        safe_path(landing, landing / "ehr" / ".." / ".." / "secrets" / "Patient.ndjson")
    assert safe_path(landing, landing / "ehr" / DAY.isoformat() / "Encounter.ndjson").is_file()


def test_a_symlinked_drop_folder_pointing_outside_is_refused(landing: Path, tmp_path: Path) -> None:
    (landing / "crm").mkdir()
    (landing / "crm" / DAY.isoformat()).symlink_to(tmp_path / "secrets", target_is_directory=True)
    found = survey(landing, [DAY])
    assert [(entry.relative_path, entry.reason) for entry in found.refused] == [(f"crm/{DAY}", "symlink")]
    assert [landed.relative_path for landed in found.files] == [f"ehr/{DAY}/Encounter.ndjson"]


def test_a_symlinked_source_folder_pointing_outside_is_refused(landing: Path, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere" / DAY.isoformat()
    outside.mkdir(parents=True)
    (outside / "touches.jsonl").write_text("{}\n")
    (landing / "crm").symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    assert landed_days(landing) == [DAY]
    found = survey(landing, [DAY])
    assert [(entry.relative_path, entry.reason) for entry in found.refused] == [("crm", "symlink")]
    assert all(landed.source == "ehr" for landed in found.files)


def test_a_symlinked_file_inside_the_root_is_refused_too(landing: Path) -> None:
    folder = landing / "ehr" / DAY.isoformat()
    (folder / "Patient.ndjson").symlink_to(folder / "Encounter.ndjson")
    found = survey(landing, [DAY])
    assert [(entry.relative_path, entry.reason) for entry in found.refused] == [
        (f"ehr/{DAY}/Patient.ndjson", "symlink")]
    assert [landed.relative_path for landed in found.files] == [f"ehr/{DAY}/Encounter.ndjson"]


@pytest.mark.parametrize("name", ["ehr_encounter", "marts.metrics_wait_daily", "_x1"])
def test_plain_identifiers_pass(name: str) -> None:
    assert validated_identifier(name, where="t", qualified=True) == name


@pytest.mark.parametrize(
    "name", ['x"; drop table raw.load_manifest; --', "a b", "raw.x.y", "", "1abc", None, "tbl--", "é"]
)
def test_anything_else_is_refused(name: object) -> None:
    with pytest.raises(ConfigError, match="not a valid table or column name"):
        validated_identifier(name, where="suite.json", qualified=True)


def test_quote_identifier_doubles_quotes() -> None:
    assert quote_identifier('we"ird') == '"we""ird"'


def test_a_suite_with_a_hostile_table_name_is_refused_before_any_sql(tmp_path: Path, settings: Settings) -> None:
    stage = tmp_path / "expectations" / "staging"
    stage.mkdir(parents=True)
    (stage / "evil.json").write_text(json.dumps({
        "name": "staging.evil", "table": "stg_x", "raw_table": "relations_complaints; drop table raw.load_manifest",
        "expectations": [],
    }))
    with pytest.raises(ConfigError, match=r"evil\.json \(raw_table\)"):
        load_suites(tmp_path, "staging", settings, datetime.now(UTC))


def test_committed_suites_all_have_valid_names(settings: Settings) -> None:
    for stage in ("landing", "staging", "marts"):
        load_suites(settings.project_dir, stage, settings, datetime.now(UTC))


def test_replay_filters_are_bound_parameters(tmp_path: Path) -> None:
    conn = duckdb.connect(str(tmp_path / "w.duckdb"))
    ensure_schema(conn)
    conn.execute(
        """insert into quarantine.rows values ('b1', 'relations', 'complaints', 'relations/2026-01-05/complaints.csv',
           1, '2026-01-05', 'complaint_not_in_future', 'error', 'd', '{"complaint_id": "c1"}', null,
           '2026-01-06', null)"""
    )
    hostile = "x' or 1=1 --"
    report = reinstate(conn, now=datetime(2026, 1, 7), path=hostile, rule=hostile)
    assert report.awaiting_redelivery == []
    assert conn.execute("select count(*) from quarantine.rows where replayed_at is null").fetchone() == (1,)
    assert conn.execute("select count(*) from raw.relations_complaints").fetchone() == (0,)


def test_quarantine_list_limit_is_validated_by_the_cli(settings: Settings) -> None:
    from journey.cli import app

    result = CliRunner().invoke(app, ["quarantine", "list", "--limit", "1; drop table quarantine.rows"])
    assert result.exit_code == 2, "typer refuses a non-integer before any SQL runs"
