"""Shared fixtures. Every test gets its own JOURNEY_DATA_DIR; telemetry is off for every tool."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")

from journey.config import Settings  # noqa: E402


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    data = tmp_path / "data"
    monkeypatch.setenv("JOURNEY_DATA_DIR", str(data))
    monkeypatch.setenv("JOURNEY_SECRET", "test-secret-not-for-production")
    # Generated drops are dated in the past: keep them (retention has its own tests).
    monkeypatch.setenv("JOURNEY_LANDING_RETENTION_DAYS", "0")
    built = Settings()
    built.ensure_dirs()
    return built
