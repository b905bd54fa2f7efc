"""The project's own generic tests (macros/generic_tests.sql) on a real built warehouse: they fail on
the bad rows they exist for."""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path

import duckdb
import pytest

from journey.config import Settings
from journey.errors import BuildFailed
from journey.transform.dbt import run_dbt

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("small_hospital")]

SELECT = ("test", "--select", "stg_ehr__slots,test_name:unique_within_latest_load")


def _duplicate_a_slot(work: Path, day: str) -> str:
    conn = duckdb.connect(str(work))
    try:
        row = conn.execute(
            f"""insert into staging.stg_ehr__slots
                select * from staging.stg_ehr__slots where snapshot_date = {day} order by slot_snapshot_id limit 1
                returning slot_snapshot_id"""
        ).fetchone()
    finally:
        conn.close()
    assert row is not None
    return str(row[0])


def test_unique_within_latest_load_checks_the_dates_of_the_latest_load(
    small_hospital: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.copytree(small_hospital.root, tmp_path / "data")
    monkeypatch.setenv("JOURNEY_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("JOURNEY_SECRET", "test-secret-not-for-production")
    settings = Settings(min_cell_size=5)
    work = settings.work_path
    assert run_dbt(settings, work, *SELECT).succeeded == 1

    # As after a nightly that loaded only the last snapshot date: every earlier date an hour older.
    conn = duckdb.connect(str(work))
    try:
        first, last = conn.execute(
            "select min(snapshot_date), max(snapshot_date) from staging.stg_ehr__slots"
        ).fetchone()
        assert last - first >= timedelta(days=30)
        conn.execute("update staging.stg_ehr__slots set _loaded_at = _loaded_at - interval 1 hour "
                     "where snapshot_date < ?", [last])
    finally:
        conn.close()

    # A duplicate in a date no load touched since it was built is outside the test's range ...
    _duplicate_a_slot(work, f"date '{first}'")
    assert run_dbt(settings, work, *SELECT).succeeded == 1
    # ... one in the latest load's date fails it, naming the test.
    duplicated = _duplicate_a_slot(work, f"date '{last}'")
    assert duplicated.endswith(f"@{last}")
    with pytest.raises(BuildFailed, match="unique_within_latest_load_stg_ehr__slots_slot_snapshot_id"):
        run_dbt(settings, work, *SELECT)
