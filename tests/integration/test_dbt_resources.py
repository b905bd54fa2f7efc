"""dbt's DuckDB runs within journey's resource settings (JOURNEY_DUCKDB_MEMORY_LIMIT / _THREADS), as the
loader and the gates do: without them DuckDB may take 80 % of the machine's memory (the measured peak of a
year's full build is in bench/README.md)."""

from __future__ import annotations

import json
import subprocess

import duckdb
import pytest

from journey.config import Settings
from journey.transform.dbt import dbt_env, dbt_executable

pytestmark = pytest.mark.slow


def _duckdb_setting_text(name: str, value: str) -> str:
    """How DuckDB itself reports ``name`` once set to ``value`` (e.g. 1GB → '953.6 MiB')."""
    conn = duckdb.connect(config={name: value})
    try:
        row = conn.execute("select current_setting(?)", [name]).fetchone()
    finally:
        conn.close()
    assert row is not None
    return str(row[0])


def test_dbt_duckdb_gets_the_memory_limit_and_threads_of_the_settings(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JOURNEY_DUCKDB_MEMORY_LIMIT", "1GB")
    monkeypatch.setenv("JOURNEY_DUCKDB_THREADS", "1")
    configured = Settings()
    database = configured.work_path
    duckdb.connect(str(database)).close()
    project = str(configured.project_dir)
    # the same environment and working directory as run_dbt gives dbt
    env = dbt_env(configured, database)
    proc = subprocess.run(
        [dbt_executable(), "show", "--inline",
         "select current_setting('memory_limit') as memory_limit, current_setting('threads') as threads",
         "--output", "json", "--log-format", "json", "--project-dir", project, "--profiles-dir", project,
         "--target-path", str(configured.dbt_target_dir), "--log-path", str(configured.dbt_log_dir)],
        env=env, cwd=database.parent, capture_output=True, text=True, check=False,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    shown = [json.loads(line)["data"]["preview"] for line in proc.stdout.splitlines()
             if line.startswith("{") and "preview" in json.loads(line).get("data", {})]
    assert shown, proc.stdout[-3000:]
    rows = json.loads(shown[-1])
    assert rows == [{"memory_limit": _duckdb_setting_text("memory_limit", "1GB"), "threads": 1}]
