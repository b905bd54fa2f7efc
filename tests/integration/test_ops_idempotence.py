"""Reruns change nothing; a re-delivered file with changed bytes is reprocessed, not added twice, and
the first version sent again (A, B, A) is the current version again."""

from __future__ import annotations

import json
from datetime import date, timedelta

import duckdb
import pytest

from journey.config import Settings
from journey.ops.checksums import table_checksums
from journey_demo import generate

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("prefect")]

START = date(2026, 3, 2)


def test_rebuild_gives_identical_marts_and_a_redelivered_file_replaces_its_first_version(settings: Settings) -> None:
    from flows.nightly import nightly

    generate(settings.landing_dir, settings.generator_dir, start=START, days=2, scale=0.02, seed=7)
    last = START + timedelta(days=1)
    assert nightly(run_date=last, docs=False)["status"] == "succeeded"
    built = table_checksums(settings.warehouse_path)
    assert len(built) >= 8 and sum(rows for rows, _ in built.values()) > 0

    first_touchpoints = _touchpoints(settings)

    again = nightly(run_date=last, docs=False)
    assert (again["status"], again["files"]) == ("skipped", 0), "the same date again loads no file twice"
    rebuilt = nightly(run_date=last, rebuild=True, docs=False)
    assert (rebuilt["status"], rebuilt["files"]) == ("succeeded", 0)
    assert table_checksums(settings.warehouse_path) == built, "a rebuild of the same data gives the same marts"

    # The CRM re-sends day one's touches with one touch withdrawn: same path, different bytes.
    touches = settings.landing_dir / "crm" / START.isoformat() / "touches.jsonl"
    lines = touches.read_text(encoding="utf-8").splitlines(keepends=True)
    withdrawn = json.loads(lines[-1])["touch_id"]
    touches.write_text("".join(lines[:-1]), encoding="utf-8")

    redone = nightly(run_date=last, docs=False)
    assert redone["status"] == "succeeded"
    assert (redone["days"], redone["files"]) == ([START.isoformat()], 1), "only the changed file's day is redone"
    conn = duckdb.connect(str(settings.warehouse_path), read_only=True)
    try:
        statuses = conn.execute(
            "select status from raw.load_manifest where path = ? order by loaded_at", [f"crm/{START}/touches.jsonl"]
        ).fetchall()
        assert statuses == [("superseded",), ("loaded",)]
        rows = conn.execute("select count(*) from raw.crm_touches where _source_file like ?",
                            [f"%crm/{START}/touches.jsonl"]).fetchone()
        assert rows == (len(lines) - 1,), "the first version's rows are gone, not kept beside the new ones"
        gone = conn.execute("select count(*) from staging.stg_crm__touches where touch_id = ?", [withdrawn]).fetchone()
        assert gone == (0,)
    finally:
        conn.close()
    after = table_checksums(settings.warehouse_path)
    assert after != built and set(after) == set(built)

    # The CRM then sends the first version back (A, B, A): it is the current version again.
    touches.write_text("".join(lines), encoding="utf-8")
    restored = nightly(run_date=last, docs=False)
    assert (restored["status"], restored["days"], restored["files"]) == ("succeeded", [START.isoformat()], 1)
    conn = duckdb.connect(str(settings.warehouse_path), read_only=True)
    try:
        statuses = conn.execute(
            "select status from raw.load_manifest where path = ? order by loaded_at", [f"crm/{START}/touches.jsonl"]
        ).fetchall()
        assert statuses == [("superseded",), ("loaded",)], "B is superseded; A's old superseded row is replaced"
        back = conn.execute("select count(*) from staging.stg_crm__touches where touch_id = ?", [withdrawn]).fetchone()
        assert back == (1,)
    finally:
        conn.close()
    now = table_checksums(settings.warehouse_path)
    assert {name: sums for name, sums in now.items() if name != "fct_touchpoints"} == {
        name: sums for name, sums in built.items() if name != "fct_touchpoints"
    }, "the marts are as they were with the first version"
    # fct_touchpoints also records when each touch was loaded (source_loaded_at): A's touches were
    # loaded again, so only that lineage column may differ.
    assert _touchpoints(settings) == first_touchpoints


def _touchpoints(settings: Settings) -> list[tuple[object, ...]]:
    conn = duckdb.connect(str(settings.warehouse_path), read_only=True)
    try:
        return conn.execute(
            "select * exclude (source_loaded_at) from marts.fct_touchpoints order by touchpoint_id"
        ).fetchall()
    finally:
        conn.close()
