"""Telemetry is switched off by every entry point before Prefect, dbt or GX can read it, and the
network guard used by the network-refused run really refuses and records outbound attempts."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from journey.config import Settings, apply_runtime_env, telemetry_off_env
from journey.transform.dbt import dbt_env

OFF = {
    "DO_NOT_TRACK": "1",
    "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    "GX_ANALYTICS_ENABLED": "false",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
}
GUARD = Path(__file__).resolve().parents[2] / "integration" / "netguard"


#: what apply_runtime_env also sets in the process environment
RUNTIME = ("PREFECT_HOME", "PREFECT_LOGGING_LEVEL", "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS")


@pytest.fixture
def bare_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for key in (*OFF, *RUNTIME):
        # set, then delete: monkeypatch restores what the process had, also for a key it did not have.
        # Otherwise apply_runtime_env leaves this test's PREFECT_HOME (never created) to every later
        # test of the worker, whose Prefect API then cannot open its database.
        monkeypatch.setenv(key, "")
        monkeypatch.delenv(key)
    monkeypatch.setenv("JOURNEY_DATA_DIR", str(tmp_path / "data"))


def test_every_tool_switch_is_in_the_telemetry_env() -> None:
    assert telemetry_off_env() == OFF


def test_apply_runtime_env_switches_telemetry_off(bare_env: None) -> None:
    apply_runtime_env(Settings())
    assert {key: os.environ[key] for key in OFF} == OFF


def test_the_cli_switches_telemetry_off_before_any_command_runs(bare_env: None) -> None:
    from journey.cli import app

    result = CliRunner().invoke(app, ["info"])
    assert result.exit_code == 0, result.output
    assert {key: os.environ[key] for key in OFF} == OFF


def test_dbt_subprocess_env_has_telemetry_off_even_if_the_parent_turned_it_on(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("DBT_SEND_ANONYMOUS_USAGE_STATS", "true")
    env = dbt_env(Settings(data_dir=tmp_path), tmp_path / "w.duckdb")
    assert {key: env[key] for key in OFF} == OFF


def test_the_guard_refuses_and_records_outbound_but_allows_loopback(tmp_path: Path) -> None:
    log = tmp_path / "guard.jsonl"
    code = (
        "import socket\n"
        "server = socket.socket(); server.bind(('127.0.0.1', 0)); server.listen()\n"
        "socket.create_connection(server.getsockname(), timeout=5).close()\n"
        "try:\n"
        "    socket.create_connection(('192.0.2.10', 443), timeout=5)\n"
        "except ConnectionRefusedError:\n"
        "    print('refused')\n"
    )
    env = {**os.environ, "PYTHONPATH": str(GUARD), "JOURNEY_NETGUARD_LOG": str(log)}
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert proc.stdout.strip() == "refused"
    events = [json.loads(line) for line in log.read_text().splitlines()]
    refused = [event for event in events if event["event"] == "refused"]
    assert len(refused) == 1 and refused[0]["address"][0] == "192.0.2.10"
