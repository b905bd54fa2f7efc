"""Night after night, the incremental path (staging by key, the change feed, the lookback) leaves
exactly the tables a rebuild from the same raw data gives, on a generated hospital with defects.

tests/integration/test_dbt_incremental.py checks each path on hand-made records; this checks that
together, through real nightly flow runs, they add up to a full rebuild.
"""

from __future__ import annotations

from datetime import date, timedelta

import duckdb
import pytest

from journey.config import Settings
from journey.ops.checksums import table_checksums
from journey_demo import generate

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("prefect")]

START = date(2026, 3, 2)
DAYS = 4
SCHEMAS = ("staging", "intermediate", "marts")


def _checksums(settings: Settings) -> dict[str, dict[str, tuple[int, str]]]:
    return {schema: table_checksums(settings.warehouse_path, schema) for schema in SCHEMAS}


def test_nightly_runs_day_by_day_equal_a_rebuild(settings: Settings) -> None:
    from flows.nightly import nightly

    generate(settings.landing_dir, settings.generator_dir, start=START, days=DAYS, scale=0.03, seed=11,
             defect_rate=0.02)
    for offset in range(DAYS):
        night = nightly(run_date=START + timedelta(days=offset), docs=False)
        assert night["status"] == "succeeded", night
    incremental = _checksums(settings)
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as conn:
        # the later nights read the change feed (a consumer commits its position at every build) and
        # every row was read, so the end of each dbt invocation pruned them all
        consumers = conn.execute("select distinct consumer from ops.change_feed_positions order by 1").fetchall()
        assert consumers == [("fct_encounters",), ("fct_touchpoints",), ("int_encounter_waits_derived",),
                             ("int_touchpoints_unioned",)]
        assert conn.execute("select count(*) from ops.change_feed").fetchone() == (0,)
        fed = conn.execute("select count(*) from marts.fct_touchpoints").fetchone()
    assert fed is not None and fed[0] > 1000, "a hospital big enough to have every kind of touchpoint"

    rebuilt = nightly(run_date=START + timedelta(days=DAYS - 1), rebuild=True, docs=False)
    assert rebuilt["status"] == "succeeded", rebuilt
    full = _checksums(settings)
    assert set(full["marts"]) >= {"fct_touchpoints", "fct_encounters", "dim_patient", "metrics_wait_daily"}
    for schema in SCHEMAS:
        differing = sorted(name for name in full[schema] if full[schema][name] != incremental[schema].get(name))
        assert not differing, f"{schema}: the nightly tables differ from a rebuild: {differing}"
