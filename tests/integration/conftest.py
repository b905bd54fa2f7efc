"""Warehouses shared by integration modules.

``make test`` runs ``--dist loadfile``: every test module runs whole on one worker, so a
module-scoped warehouse (test_dbt_incremental, test_report, test_dbt_metrics_recomputed, ...) is
built once per suite run, not once per worker that happens to get one of its tests (``--dist load``
duplicated those builds). A session-scoped warehouse (the small hospital below) is built once per
worker. The ``xdist_group`` marks would let
``--dist loadgroup`` pin the small-hospital modules to one worker, but the pinned pytest 9.2 +
pytest-xdist 3.8 ignore them (pytest-xdist#1386); pinning pytest 9.1 would also serialise the
Prefect-flow group, which costs more than it saves. They are kept for when that is fixed."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta

import pytest
from test_ops_alerts import Webhook

from journey.config import Settings
from journey.ingest.landing import discover
from journey.ingest.loader import load_file
from journey.runs import open_work
from journey.transform.dbt import run_dbt
from journey_demo import generate

SMALL_HOSPITAL_GROUP = "small_hospital"


@pytest.fixture(scope="session")
def small_hospital(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """A generated hospital over 33 days (past the 30-day return and follow-up windows), loaded straight
    into raw and built by `dbt build` (models only) with min_cell_size 5, so that small cells fill.

    The marts are in ``settings.work_path`` (built in place, never published); the dbt artifacts,
    semantic manifest included, in ``settings.dbt_target_dir``. Read-only for its users.
    """
    start, days = date(2026, 3, 2), 33
    root = tmp_path_factory.mktemp("small_hospital")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("JOURNEY_DATA_DIR", str(root / "data"))
        patch.setenv("JOURNEY_SECRET", "test-secret-not-for-production")
        settings = Settings(min_cell_size=5)
        settings.ensure_dirs()
        generate(settings.landing_dir, settings.generator_dir, start=start, days=days, scale=0.05, seed=3)
        conn = open_work(settings, settings.work_path)
        drop_days = [start + timedelta(days=offset) for offset in range(days)]
        loaded_at = datetime.combine(start + timedelta(days=days + 7), datetime.min.time())
        for landed in discover(settings.landing_dir, drop_days):
            load_file(conn, landed, run_id="r", loaded_at=loaded_at)
        conn.close()
        run_dbt(settings, settings.work_path, "build", "--exclude", "resource_type:test", "resource_type:unit_test")
    return settings


@pytest.fixture
def webhook(monkeypatch: pytest.MonkeyPatch) -> Iterator[Webhook]:
    """A real HTTP endpoint on 127.0.0.1 as JOURNEY_WEBHOOK_URL, recording what the run posts."""
    hook = Webhook()
    monkeypatch.setenv("JOURNEY_WEBHOOK_URL", hook.url)
    yield hook
    hook.close()
