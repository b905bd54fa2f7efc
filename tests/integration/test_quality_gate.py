"""The GX gate on real parts: loader → real `dbt run` of the staging views → GX on this run's rows."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta

import duckdb
import pandas as pd
import pytest

from journey.config import Settings
from journey.errors import ValidationFailed
from journey.ingest.landing import discover
from journey.ingest.loader import load_file
from journey.quality.gate import _frames, load_suites, validate_stage
from journey.quality.landing_health import landing_health
from journey.quality.replay import reinstate
from journey.runs import open_work
from journey.transform.dbt import STAGING_BUILD_ARGS, run_dbt

pytestmark = pytest.mark.slow
DAY = date(2026, 1, 5)


def _load(settings: Settings, files: dict[str, str], days: list[date] | None = None, stage: bool = True) -> list[str]:
    for relative, content in files.items():
        path = settings.landing_dir / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
    conn = open_work(settings, settings.work_path)
    try:
        loads = [
            load_file(conn, f, run_id="r1", loaded_at=datetime(2026, 1, 6))
            for f in discover(settings.landing_dir, days or [DAY])
        ]
    finally:
        conn.close()
    if stage:
        run_dbt(settings, settings.work_path, *STAGING_BUILD_ARGS)
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
        # "five" is also an unreadable value; the first failing rule in the suite quarantines it
        assert failed == [("channel_known", "warn", 1), ("review_rating_in_range", "error", 1),
                          ("review_rating_numeric", "error", 1), ("values_readable", "error", 1)]
    finally:
        conn.close()


def test_a_refused_row_leaves_the_staging_tables_at_once(settings: Settings) -> None:
    """Staging models are tables: a row the gate refuses must leave them too (with its unnested
    elements), so no later suite and no reader of the working copy sees it before the dbt build."""
    history = [{"status": "arrived", "period": {"start": "2026-01-05T09:00:00+08:00"}},
               {"status": "finished", "period": {"start": "2026-01-05T09:30:00+08:00"}}]
    encounters = [
        {"resourceType": "Encounter", "id": f"e{i}", "status": status, "class": {"code": "AMB"},
         "subject": {"reference": "Patient/p1"}, "statusHistory": history,
         "period": {"start": "2026-01-05T09:00:00+08:00", "end": "2026-01-05T09:30:00+08:00"}}
        for i, status in enumerate(["finished", "done", "finished"], start=1)
    ]
    batches = _load(settings, {f"ehr/{DAY}/Encounter.ndjson": "\n".join(json.dumps(e) for e in encounters) + "\n"})
    with duckdb.connect(str(settings.work_path), read_only=True) as conn:  # the stage step built all three
        assert conn.execute("select count(*) from staging.stg_ehr__encounter_status_history").fetchone() == (6,)
    report = validate_stage(settings, settings.work_path, "staging", batches, "r1")
    assert report.rows_quarantined == 1
    with duckdb.connect(str(settings.work_path), read_only=True) as conn:
        assert conn.execute(
            "select encounter_id from staging.stg_ehr__encounters order by 1").fetchall() == [("e1",), ("e3",)]
        assert conn.execute(
            "select distinct encounter_id from staging.stg_ehr__encounter_status_history order by 1"
        ).fetchall() == [("e1",), ("e3",)]
        assert conn.execute("select count(*) from raw.ehr_encounter").fetchone() == (2,)


def _encounter_lines(good: int, bad: int) -> str:
    valid = {"resourceType": "Encounter", "id": "e1", "status": "finished", "class": {"code": "AMB"},
             "subject": {"reference": "Patient/p1"}}
    lines = [json.dumps({**valid, "id": f"e{i}"}) for i in range(good)]
    lines += [json.dumps({"resourceType": "Encounter", "id": f"x{i}", "status": "finished"}) for i in range(bad)]
    return "\n".join(lines) + "\n"


def test_a_file_mostly_failing_required_fields_stops_the_run(settings: Settings) -> None:
    batches = _load(settings, {f"ehr/{DAY}/Encounter.ndjson": _encounter_lines(good=20, bad=20)}, stage=False)
    with pytest.raises(ValidationFailed) as caught:
        validate_stage(settings, settings.work_path, "landing", batches, "r1")
    message = str(caught.value)
    assert f"ehr/{DAY}/Encounter.ndjson" in message
    assert "20 of 40 rows" in message and "max_quarantine_share" in message


def test_the_share_rule_spares_files_below_the_minimum_row_count(settings: Settings) -> None:
    # 8 rows < min_rows_for_share (20): the 4 bad rows are quarantined, the run goes on.
    batches = _load(settings, {f"ehr/{DAY}/Encounter.ndjson": _encounter_lines(good=4, bad=4)}, stage=False)
    validate_stage(settings, settings.work_path, "landing", batches, "r1")
    conn = duckdb.connect(str(settings.work_path), read_only=True)
    try:
        manifest = conn.execute("select rows_read, rows_loaded, rows_quarantined from raw.load_manifest").fetchone()
        assert manifest == (8, 4, 4)
    finally:
        conn.close()


def _reviews(day: date, n: int) -> str:
    return "".join(
        json.dumps({"review_id": f"{day}-{i}", "platform": "dianping", "rating": 4, "text": "ok",
                    "posted_at": f"{day} 10:00:00"}) + "\n"
        for i in range(n)
    )


def test_landing_health_warns_on_a_collapsed_volume_and_a_missing_drop(settings: Settings) -> None:
    # 22 days of 40 reviews and a crm touch, then a Friday with 5 reviews and no crm drop: the 3
    # earlier Fridays' median 40, factor 3 → band [13.3, 120]; 5 is below it.
    days = [date(2026, 1, d) for d in range(1, 24)]
    files = {f"relations/{d}/reviews.jsonl": _reviews(d, 40 if d < days[-1] else 5) for d in days}
    files |= {f"crm/{d}/touches.jsonl": json.dumps({"touch_id": f"t{d}", "ts": f"{d} 09:00:00",
                                                     "channel": "wechat", "action": "click"}) + "\n"
              for d in days[:-1]}
    _load(settings, files, days=days[:-1], stage=False)
    batches = _load(settings, {}, days=days[-1:], stage=False)
    report = validate_stage(settings, settings.work_path, "landing", batches, "r2")
    assert report.errors == []
    conn = duckdb.connect(str(settings.work_path), read_only=True)
    try:
        failed = conn.execute(
            "select rule, severity, unexpected_count, detail from ops.dq_results "
            "where run_id = 'r2' and not success order by rule"
        ).fetchall()
    finally:
        conn.close()
    by_rule = {rule: (severity, count, detail) for rule, severity, count, detail in failed}
    assert set(by_rule) == {"drop_present", "volume_not_below_band"}
    # crm has no file on day 9: one row per crm entity (campaigns, touches) has files = 0.
    assert by_rule["drop_present"][:2] == ("warn", 2)
    assert "crm_touches on 2026-01-23 (0 rows, 0 files)" in by_rule["drop_present"][2]
    assert by_rule["volume_not_below_band"] == ("warn", 1, "relations_reviews on 2026-01-23 (5 rows, 1 files)")
    assert (settings.site_dir / "quality" / "landing" / "index.html").is_file(), "GX Data Docs site written"


def test_the_volume_band_compares_a_day_with_the_same_weekday(settings: Settings) -> None:
    """Five weeks of reviews, Mon-Fri 100 a day and weekends 5, plus one complaint a day (a second
    relations file each day). Hand-computed bands (median of the 4 same weekdays in the 28 days before,
    factor 3): Saturday 2026-02-07 [5/3, 15] → 100 rows is above; Sunday 02-08 [5/3, 15] → 5 rows is
    normal (the old all-days median 100 gave [33.3, 300] and warned); Monday 02-09 [33.3, 300] → 10
    rows is below. The message counts the reviews file only (1 file), not the complaints file."""
    settings = settings.model_copy(update={"thresholds": settings.thresholds.model_copy(
        update={"volume_band_min_rows": 1})})
    history = [date(2026, 1, 5) + timedelta(days=offset) for offset in range(33)]  # Mon 01-05 .. Fri 02-06
    tonight = {date(2026, 2, 7): 100, date(2026, 2, 8): 5, date(2026, 2, 9): 10}
    volume = {d: (100 if d.weekday() < 5 else 5) for d in history} | tonight
    complaint = ("complaint_id,patient_id,encounter_id,department,received_at,first_response_at,resolved_at,"
                 "category,channel,description\n")
    files = {f"relations/{d}/reviews.jsonl": _reviews(d, n) for d, n in volume.items()}
    files |= {f"relations/{d}/complaints.csv": complaint + f"c{d},p1,e1,emergency,{d} 09:00,,,waiting,phone,slow\n"
              for d in volume}
    _load(settings, files, days=history, stage=False)
    batches = _load(settings, {}, days=sorted(tonight), stage=False)
    report = validate_stage(settings, settings.work_path, "landing", batches, "r2")
    assert report.errors == []
    with duckdb.connect(str(settings.work_path), read_only=True) as conn:
        failed = dict(conn.execute(
            "select rule, detail from ops.dq_results where run_id = 'r2' and not success order by rule"
        ).fetchall())
    assert failed == {
        "volume_not_above_band": "relations_reviews on 2026-02-07 (100 rows, 1 files)",
        "volume_not_below_band": "relations_reviews on 2026-02-09 (10 rows, 1 files)",
    }


def test_landing_health_bands_hand_computed(settings: Settings) -> None:
    """The frame itself for the Sunday above: 4 earlier Sundays of 5 rows → band [5/3, 15]."""
    settings = settings.model_copy(update={"thresholds": settings.thresholds.model_copy(
        update={"volume_band_min_rows": 1})})
    days = [date(2026, 1, 5) + timedelta(days=offset) for offset in range(35)]  # through Sun 02-08
    _load(settings, {f"relations/{d}/reviews.jsonl": _reviews(d, 100 if d.weekday() < 5 else 5) for d in days},
          days=days, stage=False)
    with duckdb.connect(str(settings.work_path)) as conn:
        frame = landing_health(conn, settings, [date(2026, 2, 8), date(2026, 2, 9)])
    reviews = frame[frame.raw_table == "relations_reviews"].set_index("day")
    sunday = reviews.loc[date(2026, 2, 8)]
    assert (sunday.rows, sunday.weekday_history_days, sunday.history_days) == (5, 4, 28)
    assert sunday.band_low == pytest.approx(5 / 3) and sunday.band_high == 15
    monday = reviews.loc[date(2026, 2, 9)]  # nothing landed: a missed drop (Mondays delivered before)
    assert (monday.files, monday.rows, monday.band_low) == (0, 0, pytest.approx(100 / 3))
    touches = frame[frame.raw_table == "crm_touches"].set_index("day")
    assert pd.isna(touches.loc[date(2026, 2, 8)].files)  # crm never delivered: not expected


def test_future_timestamps_are_quarantined_and_order_breaks_warned(settings: Settings) -> None:
    reviews = _reviews(DAY, 2) + json.dumps(
        {"review_id": "late", "platform": "dianping", "rating": 3, "text": "?", "posted_at": "2099-01-01 00:00:00"}
    ) + "\n"
    complaints = (
        "complaint_id,patient_id,encounter_id,department,received_at,first_response_at,resolved_at,category,"
        "channel,description\n"
        "c1,p1,e1,emergency,2026-01-05 09:00,2026-01-05 08:00,,waiting,phone,slow\n"
        "c2,p1,e1,emergency,2026-01-05 09:00,2026-01-05 10:00,,waiting,phone,slow\n"
    )
    batches = _load(settings, {f"relations/{DAY}/reviews.jsonl": reviews,
                               f"relations/{DAY}/complaints.csv": complaints})
    report = validate_stage(settings, settings.work_path, "staging", batches, "r1")
    assert report.rows_quarantined == 1
    conn = duckdb.connect(str(settings.work_path), read_only=True)
    try:
        assert conn.execute("select _row_number, rule from quarantine.rows").fetchall() == [
            (3, "review_not_in_future")
        ]
        warned = conn.execute(
            "select unexpected_count, detail from ops.dq_results where rule = 'complaint_response_after_receipt'"
        ).fetchone()
        assert warned == (1, f"relations/{DAY}/complaints.csv row 1")
    finally:
        conn.close()
    assert (settings.site_dir / "quality" / "staging" / "index.html").is_file()


def test_a_date_shift_admits_a_shifted_export_and_still_refuses_beyond_it(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A de-identified export shifted ~70 years ahead: with JOURNEY_THRESHOLDS__DATE_SHIFT_DAYS the
    not-in-future rule compares against now + shift (+ tolerance); a row beyond that is still refused."""
    monkeypatch.setenv("JOURNEY_THRESHOLDS__DATE_SHIFT_DAYS", str(70 * 366))
    shifted = Settings()
    reviews = "".join(json.dumps({"review_id": rid, "platform": "dianping", "rating": 4, "text": "ok",
                                  "posted_at": posted}) + "\n"
                      for rid, posted in [("s1", "2090-03-01 10:00:00"), ("s2", "2095-06-01 10:00:00"),
                                          ("beyond", "2180-01-01 00:00:00")])
    batches = _load(shifted, {f"relations/{DAY}/reviews.jsonl": reviews})
    now = datetime(2026, 1, 6)
    suite = next(s for s in load_suites(shifted.project_dir, "staging", shifted, now) if s.name.endswith("reviews"))
    limit = next(e["kwargs"]["max_value"] for e in suite.expectations if e["meta"]["rule"] == "review_not_in_future")
    assert limit == now + timedelta(days=70 * 366, minutes=60)
    report = validate_stage(shifted, shifted.work_path, "staging", batches, "r1")
    assert report.rows_quarantined == 1
    with duckdb.connect(str(shifted.work_path), read_only=True) as conn:
        assert conn.execute("select _row_number, rule from quarantine.rows").fetchall() == [(3, "review_not_in_future")]
        assert conn.execute("select review_id from raw.relations_reviews order by 1").fetchall() == [("s1",), ("s2",)]


def test_replay_revalidates_rule_refused_rows_and_keeps_counts(settings: Settings) -> None:
    reviews = _reviews(DAY, 2) + json.dumps(
        {"review_id": "late", "platform": "dianping", "rating": 3, "text": "?", "posted_at": "2099-01-01 00:00:00"}
    ) + "\n" + "{not json\n"
    batches = _load(settings, {f"relations/{DAY}/reviews.jsonl": reviews})
    validate_stage(settings, settings.work_path, "staging", batches, "r1")

    def state(conn: duckdb.DuckDBPyConnection) -> tuple[object, ...]:
        manifest = conn.execute("select rows_read, rows_loaded, rows_quarantined from raw.load_manifest").fetchone()
        live = conn.execute("select rule from quarantine.rows where replayed_at is null order by rule").fetchall()
        raw = conn.execute("select count(*) from raw.relations_reviews").fetchone()
        return manifest, [r[0] for r in live], raw

    conn = duckdb.connect(str(settings.work_path))
    try:
        assert state(conn) == ((4, 2, 2), ["malformed_json", "review_not_in_future"], (2,))
        # Nothing fixed yet: the row comes back, fails again, returns to quarantine; counts still add up.
        report = reinstate(conn, now=datetime(2026, 1, 7))
        assert (report.reinstated, report.awaiting_redelivery) == (1, [(f"relations/{DAY}/reviews.jsonl", 1)])
        assert state(conn) == ((4, 3, 1), ["malformed_json"], (3,))
    finally:
        conn.close()
    run_dbt(settings, settings.work_path, *STAGING_BUILD_ARGS)
    validate_stage(settings, settings.work_path, "staging", report.batch_ids, "r2")
    conn = duckdb.connect(str(settings.work_path))
    try:
        assert state(conn) == ((4, 2, 2), ["malformed_json", "review_not_in_future"], (2,))
        # The site fixes its clock-skew allowance: the replayed row now passes and stays loaded.
        settings.thresholds.future_tolerance_minutes = 100 * 365 * 24 * 60
        report = reinstate(conn, now=datetime(2026, 1, 8))
    finally:
        conn.close()
    run_dbt(settings, settings.work_path, *STAGING_BUILD_ARGS)
    validate_stage(settings, settings.work_path, "staging", report.batch_ids, "r3")
    conn = duckdb.connect(str(settings.work_path), read_only=True)
    try:
        assert state(conn) == ((4, 3, 1), ["malformed_json"], (3,))
        assert conn.execute("select count(*) from quarantine.rows where replayed_at is not null").fetchone() == (2,)
    finally:
        conn.close()


def test_a_large_increment_is_checked_chunk_by_chunk_with_the_counts_of_one_pass(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Chunks of one DuckDB vector (2,048 rows): 5,000 reviews are checked as 2,048 + 2,048 + 904 rows,
    # 4,200 touches as 2,048 + 2,048 + 104. Failures sit in different chunks.
    monkeypatch.setenv("JOURNEY_VALIDATE_CHUNK_ROWS", "1")
    settings = Settings()
    reviews = [{"review_id": f"r{i}", "platform": "dianping", "rating": 7 if i in (1, 2500, 4999) else 4,
                "text": "ok", "posted_at": "2026-01-05 10:00:00"} for i in range(5000)]
    touches = [{"touch_id": f"t{i}", "ts": "2026-01-05 09:00:00", "anonymous_id": "a",
                "channel": "telegraph" if i in (0, 2100, 4199) else "wechat", "action": "click"} for i in range(4200)]
    batches = _load(settings, {
        f"relations/{DAY}/reviews.jsonl": "".join(json.dumps(r) + "\n" for r in reviews),
        f"crm/{DAY}/touches.jsonl": "".join(json.dumps(t) + "\n" for t in touches),
    })
    conn = open_work(settings, settings.work_path)
    try:
        suite = next(s for s in load_suites(settings.project_dir, "staging", settings, datetime(2026, 1, 6))
                     if s.table == "stg_relations__reviews")
        sizes = [len(frame) for frame in _frames(conn, settings, suite, '"staging"."stg_relations__reviews"', batches)]
        assert sizes == [2048, 2048, 904]
    finally:
        conn.close()

    report = validate_stage(settings, settings.work_path, "staging", batches, "r1")
    assert (report.rows_quarantined, report.warnings) == (3, 1)
    conn = duckdb.connect(str(settings.work_path), read_only=True)
    try:
        assert conn.execute("select _row_number, rule from quarantine.rows order by 1").fetchall() == [
            (2, "review_rating_in_range"), (2501, "review_rating_in_range"), (5000, "review_rating_in_range")
        ]
        assert conn.execute(
            "select rows_read, rows_loaded, rows_quarantined from raw.load_manifest where path like '%reviews%'"
        ).fetchone() == (5000, 4997, 3)
        rows = conn.execute(
            """select rule, success, unexpected_count, element_count, detail from ops.dq_results
               where rule in ('review_rating_in_range', 'review_rating_numeric', 'channel_known') order by rule"""
        ).fetchall()
    finally:
        conn.close()
    # one row per check over the whole increment, not one per chunk
    assert [row[:4] for row in rows] == [
        ("channel_known", False, 3, 4200), ("review_rating_in_range", False, 3, 5000),
        ("review_rating_numeric", True, 0, 5000),
    ]
    assert sorted(rows[0][4].split("; ")) == [f"crm/{DAY}/touches.jsonl row {n}" for n in (1, 2101, 4200)]
