"""The GX gate on real parts: loader → real `dbt run` of the staging views → GX on this run's rows."""

from __future__ import annotations

import json
from datetime import date, datetime

import duckdb
import pytest

from journey.config import Settings
from journey.errors import ValidationFailed
from journey.ingest.landing import discover
from journey.ingest.loader import load_file
from journey.quality.gate import validate_stage
from journey.runs import open_work
from journey.transform.dbt import run_dbt

pytestmark = pytest.mark.slow
DAY = date(2026, 1, 5)


def _load(settings: Settings, files: dict[str, str]) -> list[str]:
    for relative, content in files.items():
        path = settings.landing_dir / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
    conn = open_work(settings, settings.work_path)
    try:
        loads = [
            load_file(conn, f, run_id="r1", loaded_at=datetime(2026, 1, 6))
            for f in discover(settings.landing_dir, [DAY])
        ]
    finally:
        conn.close()
    run_dbt(settings, settings.work_path, "run", "--select", "staging")
    return [load.batch_id for load in loads]


def test_row_level_errors_move_rows_to_quarantine_and_keep_counts(settings: Settings) -> None:
    reviews = [
        {"review_id": "r1", "platform": "dianping", "rating": 5, "text": "很好", "posted_at": "2026-01-05 10:00:00"},
        {"review_id": "r2", "platform": "dianping", "rating": 7, "text": "?", "posted_at": "2026-01-05 11:00:00"},
        {"review_id": "r3", "platform": "google", "rating": "five", "text": "ok", "posted_at": "2026-01-05 12:00:00"},
        {"review_id": "r4", "platform": "google", "rating": 1, "text": "slow", "posted_at": "2026-01-05 13:00:00"},
    ]
    touches = [
        {"touch_id": "t1", "ts": "2026-01-05 09:00:00", "anonymous_id": "a", "channel": "wechat", "action": "click"},
        {"touch_id": "t2", "ts": "2026-01-05 09:01:00", "anonymous_id": "a", "channel": "telegraph", "action": "click"},
    ]
    batches = _load(settings, {
        f"relations/{DAY}/reviews.jsonl": "\n".join(json.dumps(r) for r in reviews) + "\n",
        f"crm/{DAY}/touches.jsonl": "\n".join(json.dumps(t) for t in touches) + "\n",
    })
    report = validate_stage(settings, settings.work_path, "staging", batches, "r1")
    assert report.rows_quarantined == 2
    assert report.warnings == 1  # the unknown channel is recorded, not quarantined
    conn = duckdb.connect(str(settings.work_path), read_only=True)
    try:
        rules = conn.execute(
            "select _row_number, rule from quarantine.rows where _source_file like '%reviews%' order by 1"
        ).fetchall()
        assert rules == [(2, "review_rating_in_range"), (3, "review_rating_numeric")]
        assert conn.execute("select review_id from raw.relations_reviews order by 1").fetchall() == [("r1",), ("r4",)]
        manifest = conn.execute(
            "select rows_read, rows_loaded, rows_quarantined from raw.load_manifest where path like '%reviews%'"
        ).fetchone()
        assert manifest == (4, 2, 2)
        assert conn.execute("select count(*) from raw.crm_touches").fetchone() == (2,)
        failed = conn.execute(
            "select rule, severity, unexpected_count from ops.dq_results where not success order by rule"
        ).fetchall()
        assert failed == [("channel_known", "warn", 1), ("review_rating_in_range", "error", 1),
                          ("review_rating_numeric", "error", 1)]
    finally:
        conn.close()


def _encounter_lines(good: int, bad: int) -> str:
    valid = {"resourceType": "Encounter", "id": "e1", "status": "finished", "class": {"code": "AMB"},
             "subject": {"reference": "Patient/p1"}}
    lines = [json.dumps({**valid, "id": f"e{i}"}) for i in range(good)]
    lines += [json.dumps({"resourceType": "Encounter", "id": f"x{i}", "status": "finished"}) for i in range(bad)]
    return "\n".join(lines) + "\n"


def test_a_file_mostly_failing_required_fields_stops_the_run(settings: Settings) -> None:
    batches = _load(settings, {f"ehr/{DAY}/Encounter.ndjson": _encounter_lines(good=20, bad=20)})
    with pytest.raises(ValidationFailed) as caught:
        validate_stage(settings, settings.work_path, "staging", batches, "r1")
    message = str(caught.value)
    assert f"ehr/{DAY}/Encounter.ndjson" in message
    assert "20 of 40 rows" in message and "max_quarantine_share" in message


def test_the_share_rule_spares_files_below_the_minimum_row_count(settings: Settings) -> None:
    # 8 rows < min_rows_for_share (20): the 4 bad rows are quarantined, the run goes on.
    batches = _load(settings, {f"ehr/{DAY}/Encounter.ndjson": _encounter_lines(good=4, bad=4)})
    validate_stage(settings, settings.work_path, "staging", batches, "r1")
    conn = duckdb.connect(str(settings.work_path), read_only=True)
    try:
        manifest = conn.execute("select rows_read, rows_loaded, rows_quarantined from raw.load_manifest").fetchone()
        assert manifest == (8, 4, 4)
    finally:
        conn.close()
