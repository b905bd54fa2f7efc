"""Shared fixtures. Every test gets its own JOURNEY_DATA_DIR; telemetry is off for every tool."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
# Tests land files and run at once: no settle time (its own tests set it), in subprocesses too.
os.environ.setdefault("JOURNEY_LANDING_SETTLE_SECONDS", "0")

from journey.config import Settings  # noqa: E402
from journey.transform.dbt import dbt_vars  # noqa: E402

PARTIAL_PARSE = "partial_parse.msgpack"


def _parse_cache(tmp_path_factory: pytest.TempPathFactory, settings: Settings) -> Path:
    """Where this test run keeps dbt's parse state for ``settings``' dbt vars, shared by xdist workers.

    A production data dir keeps its dbt target dir from night to night, so dbt parses the project in
    full once and partially after that. Each test has a fresh data dir: seeding its target dir with the
    state an earlier test left saves a full parse per test. dbt still checks the state
    (project files, vars, profile) and re-parses whatever differs, so a stale seed costs time, never
    correctness.
    """
    base = tmp_path_factory.getbasetemp()
    run_dir = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    key = hashlib.sha256(json.dumps(dbt_vars(settings), sort_keys=True).encode()).hexdigest()[:16]
    return run_dir / "dbt-parse-cache" / f"{key}.msgpack"


@pytest.fixture
def settings(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Settings]:
    data = tmp_path / "data"
    monkeypatch.setenv("JOURNEY_DATA_DIR", str(data))
    monkeypatch.setenv("JOURNEY_SECRET", "test-secret-not-for-production")
    # Generated drops are dated in the past: keep them (retention has its own tests).
    monkeypatch.setenv("JOURNEY_LANDING_RETENTION_DAYS", "0")
    # Tests land files and run at once: no "still being written" wait (tests of it set their own).
    built = Settings()
    built.ensure_dirs()
    cached = _parse_cache(tmp_path_factory, built)
    if cached.is_file():
        built.dbt_target_dir.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(cached, built.dbt_target_dir / PARTIAL_PARSE)
    yield built
    # The test's own environment (still patched here) decides which vars its dbt runs used.
    produced = built.dbt_target_dir / PARTIAL_PARSE
    try:
        cached = _parse_cache(tmp_path_factory, Settings())
    except ValueError:  # a test that leaves an invalid setting behind: nothing to share
        return
    if produced.is_file() and not cached.is_file():
        cached.parent.mkdir(parents=True, exist_ok=True)
        partial = cached.with_suffix(f".{os.getpid()}.tmp")
        shutil.copyfile(produced, partial)
        partial.replace(cached)  # atomic: a worker never reads half a file
