"""A value that cannot be read is refused, not nulled (issue #21, item 4), and a coded column
publishes only its code list (item 6): hand-written landings through the real loader, the real
`dbt run` of staging, the real GX staging gate and, for what reaches the marts, the real dbt build.

Each fixture row is one case; the expected quarantine rules are counted by hand from the fixture."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest
from test_quality_gate import DAY
from test_quality_gate import _load as _land  # loader → raw, then the real dbt run of staging

from journey.config import Settings
from journey.errors import ValidationFailed
from journey.quality import gate
from journey.quality.gate import Suite, validate_stage
from journey.transform.dbt import run_dbt

pytestmark = pytest.mark.slow
COMPLAINT_HEADER = ("complaint_id,patient_id,encounter_id,department,received_at,first_response_at,resolved_at,"
                    "category,channel,description\n")
PHONE = "13812345678"
EMAIL = "zhang.wei@example.com"


def _quarantined(settings: Settings, like: str) -> list[tuple[int, str]]:
    with duckdb.connect(str(settings.work_path), read_only=True) as conn:
        return conn.execute(
            "select _row_number, rule from quarantine.rows where _source_file like ? order by 1, 2", [f"%{like}%"]
        ).fetchall()


def _ndjson(resources: list[dict[str, Any]]) -> str:
    return "".join(json.dumps(resource) + "\n" for resource in resources)


def test_unreadable_csv_times_are_quarantined_with_the_column_absent_ones_kept(settings: Settings) -> None:
    complaints = COMPLAINT_HEADER + "".join(f"{line}\n" for line in [
        "c1,p1,e1,emergency,2026-01-05 09:00,2026-01-05 10:00,,waiting,phone,ok",       # readable
        "c2,p1,e1,emergency,2026-01-05 23:59:60,,,waiting,phone,leap second",           # unparseable
        "c3,p1,e1,emergency,06/01/2026 10:00,,,waiting,phone,US date",                  # unparseable
        "c4,p1,e1,emergency,T10:00:00 +08:00,,,waiting,phone,no date",                  # unparseable
        "c5,p1,e1,emergency,2026-01-05 09:00,,0001-01-01 10:00,waiting,phone,year 1",   # implausible
        "c6,p1,e1,emergency,9999-12-31 10:00,,,waiting,phone,year 9999",                # implausible
        "c7,p1,e1,emergency,2026-01-05T09:00:00+08:00,,,waiting,phone,offset",          # readable
        "c8,p1,e1,emergency,2026-01-05 09:00,2026-01-05 24:00,,waiting,phone,24:00",    # unparseable
    ])
    batches = _land(settings, {f"relations/{DAY}/complaints.csv": complaints})
    report = validate_stage(settings, settings.work_path, "staging", batches, "r1")
    assert report.rows_quarantined == 6
    assert _quarantined(settings, "complaints") == [
        (2, "unparseable_time:received_at"), (3, "unparseable_time:received_at"),
        (4, "unparseable_time:received_at"), (5, "implausible_time:resolved_at"),
        (6, "implausible_time:received_at"), (8, "unparseable_time:first_response_at"),
    ]
    with duckdb.connect(str(settings.work_path), read_only=True) as conn:
        staged = conn.execute(
            "select complaint_id, received_at, first_response_at, resolved_at, unreadable_values "
            "from staging.stg_relations__complaints order by 1").fetchall()
        assert staged == [
            ("c1", datetime(2026, 1, 5, 1), datetime(2026, 1, 5, 2), None, None),  # resolved_at absent: NULL
            ("c7", datetime(2026, 1, 5, 1), None, None, None),
        ]
        assert conn.execute(
            "select rows_read, rows_loaded, rows_quarantined from raw.load_manifest").fetchone() == (8, 2, 6)
        detail = conn.execute("select detail from quarantine.rows where _row_number = 5").fetchone()
        assert detail is not None and detail[0].endswith(": implausible_time:resolved_at")


def test_fhir_times_unreadable_in_any_element_refuse_the_resource(settings: Settings) -> None:
    """Encounter.period, statusHistory[].period and location[].period; Appointment.start / created;
    QuestionnaireResponse.authored. FHIR partial dates (2026, 2026-01) and an offset-less time are read."""
    def encounter(encounter_id: str, start: str = "2026-01-05T09:00:00+08:00", **elements: Any) -> dict[str, Any]:
        return {"resourceType": "Encounter", "id": encounter_id, "status": "finished", "class": {"code": "AMB"},
                "subject": {"reference": "Patient/p1"}, "period": {"start": start}, **elements}

    resources = [
        encounter("e1"),                                                                      # 1 readable
        encounter("e2", start="2026-01"),                                                     # 2 partial date
        encounter("e3", start="2026-01-05T23:59:60+08:00"),                                   # 3 unparseable
        encounter("e4", statusHistory=[{"status": "arrived", "period": {"start": "06/01/2026 10:00"}}]),  # 4
        encounter("e5", location=[{"location": {"reference": "Location/l1"},
                                   "period": {"start": "T10:00:00 +08:00"}}]),               # 5 unparseable
        encounter("e6", start="0001-01-01T00:00:00+08:00"),                                   # 6 implausible
        encounter("e7", start="2026-01-05T09:00:00"),                                         # 7 local time
        {"resourceType": "Appointment", "id": "a1", "status": "booked",
         "start": "9999-12-31T10:00:00+08:00"},                                               # 8 implausible
        {"resourceType": "Appointment", "id": "a2", "status": "booked", "created": "2026",
         "start": "2026-01-09T10:00:00+08:00"},                                               # 9 partial
        {"resourceType": "QuestionnaireResponse", "id": "q1", "status": "completed",
         "encounter": {"reference": "Encounter/e1"}, "authored": "2026-13-01T10:00:00+08:00"},  # 10
    ]
    batches = _land(settings, {f"ehr/{DAY}/export.ndjson": _ndjson(resources)})
    validate_stage(settings, settings.work_path, "staging", batches, "r1")
    assert _quarantined(settings, "export") == [
        (3, "unparseable_time:period.start"),
        (4, "unparseable_time:statusHistory[].period.start"),
        (5, "unparseable_time:location[].period.start"),
        (6, "implausible_time:period.start"),
        (8, "implausible_time:start"),
        (10, "unparseable_time:authored"),
    ]
    with duckdb.connect(str(settings.work_path), read_only=True) as conn:
        assert conn.execute(
            "select encounter_id, period_start_at from staging.stg_ehr__encounters order by 1").fetchall() == [
            ("e1", datetime(2026, 1, 5, 1)),
            ("e2", datetime(2025, 12, 31, 16)),  # 2026-01 → 2026-01-01 00:00 local (+08:00)
            ("e7", datetime(2026, 1, 5, 1)),     # no offset: hospital local time
        ]
        assert conn.execute("select appointment_id, booked_at from staging.stg_ehr__appointments").fetchall() == [
            ("a2", datetime(2025, 12, 31, 16))]


def _response(response_id: str, nps: Any = None, overall: Any = None) -> str:
    items = [{"linkId": link, "answer": [{"valueInteger": value}]}
             for link, value in (("nps", nps), ("overall", overall)) if value is not None]
    resource = {"resourceType": "QuestionnaireResponse", "id": response_id, "status": "completed",
                "encounter": {"reference": "Encounter/e1"}, "authored": "2026-01-05T10:00:00+08:00", "item": items}
    # raw JSON text: 7.5 and 1e400 are written as they stand (json.dumps would write inf)
    return json.dumps(resource).replace('"@', "").replace('@"', "") + "\n"


def test_scores_that_are_not_integers_are_refused_never_rounded_or_no_answer(settings: Settings) -> None:
    lines = [
        _response("q1", nps=9, overall=8),                     # 1 readable
        _response("q2"),                                       # 2 no answer: kept, NULL
        _response("q3", nps="@7.5@"),                          # 3 not an integer (was rounded to 8)
        _response("q4", nps="@1e400@"),                        # 4 not finite (was "no answer")
        _response("q5", nps="@9999999999999999999@"),          # 5 out of range (was "no answer")
        _response("q6", nps=-1),                               # 6 out of 0-10: nps_in_range
        _response("q7", overall="@1e1@"),                      # 7 exponent: not an integer
        _response("q8", nps="NaN"),                            # 8 a string "NaN"
    ]
    reviews = "".join(json.dumps(review) + "\n" for review in [
        {"review_id": "r1", "platform": "google", "rating": 5, "posted_at": "2026-01-05 10:00:00"},
        {"review_id": "r2", "platform": "google", "rating": 4.6, "posted_at": "2026-01-05 10:00:00"},
        {"review_id": "r3", "platform": "google", "rating": "4", "posted_at": "2026-01-05 10:00:00"},
    ])
    follow_ups = ("follow_up_id,encounter_id,planned_day,planned_at,attempted_at,completed_at,outcome\n"
                  "f1,e1,7,2026-01-12 10:00,,,not_attempted\n"
                  "f2,e1,7.5,2026-01-12 10:00,,,not_attempted\n")
    batches = _land(settings, {f"ehr/{DAY}/QuestionnaireResponse.ndjson": "".join(lines),
                               f"relations/{DAY}/reviews.jsonl": reviews,
                               f"relations/{DAY}/follow_ups.csv": follow_ups})
    validate_stage(settings, settings.work_path, "staging", batches, "r1")
    assert _quarantined(settings, "QuestionnaireResponse") == [
        (3, "not_an_integer:item[nps].answer[0].valueInteger"),
        (4, "not_an_integer:item[nps].answer[0].valueInteger"),
        (5, "out_of_range:item[nps].answer[0].valueInteger"),
        (6, "nps_in_range"),
        (7, "not_an_integer:item[overall].answer[0].valueInteger"),
        (8, "not_an_integer:item[nps].answer[0].valueInteger"),
    ]
    # a required rating that is not a whole number fails review_rating_numeric first (4.6 was 5)
    assert _quarantined(settings, "reviews") == [(2, "review_rating_numeric")]
    assert _quarantined(settings, "follow_ups") == [(2, "follow_up_day_numeric")]
    with duckdb.connect(str(settings.work_path), read_only=True) as conn:
        assert conn.execute("select response_id, nps_score, overall_rating from "
                            "staging.stg_ehr__questionnaire_responses order by 1").fetchall() == [
            ("q1", 9, 8), ("q2", None, None)]
        assert conn.execute("select review_id, rating from staging.stg_relations__reviews order by 1").fetchall() == [
            ("r1", 5), ("r3", 4)]


def test_a_check_that_raises_fails_closed_naming_table_and_rule(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A row-level error check GX cannot evaluate (here: a text column compared with a number) used to
    be recorded success=false, unexpected_count NULL, and nothing was quarantined: the run went on."""
    batches = _land(settings, {f"relations/{DAY}/complaints.csv": COMPLAINT_HEADER
                               + "c1,p1,e1,emergency,2026-01-05 09:00,,,waiting,phone,ok\n"})
    raising = Suite(
        name="staging.stg_relations__complaints", stage="staging", table="stg_relations__complaints",
        raw_table="relations_complaints",
        expectations=({"type": "expect_column_values_to_be_between",
                       "kwargs": {"column": "complaint_category", "min_value": 0},
                       "meta": {"rule": "category_between", "severity": "error", "level": "row"}},),
    )
    monkeypatch.setattr(gate, "load_suites", lambda *args: [raising])
    with pytest.raises(ValidationFailed) as caught:
        validate_stage(settings, settings.work_path, "staging", batches, "r1")
    message = str(caught.value)
    assert "staging.stg_relations__complaints: category_between could not be checked" in message
    assert "[rule: category_between]" in message
    with duckdb.connect(str(settings.work_path), read_only=True) as conn:
        assert conn.execute("select success, detail like 'the check raised%' from ops.dq_results").fetchall() == [
            (False, True)]


def _scan(root: Path, needle: str) -> list[str]:
    return [str(path) for path in root.rglob("*") if path.is_file() and needle.encode() in path.read_bytes()]


def test_a_code_outside_its_list_is_published_as_null_with_a_reason_never_as_text(settings: Settings) -> None:
    """A phone typed into complaints.category and an e-mail into a review's department: the rows are
    kept (a complaint is never lost for its category), the code is NULL with code_not_in_list, and the
    text is in no staging table, mart, ops.dq_results row or Data Docs page. A local department code
    mapped by the site's code map is published as its target. Year-0001 / 9999 rows never reach a mart."""
    (settings.root / "mapping").mkdir(parents=True, exist_ok=True)
    (settings.root / "mapping" / "code_map.csv").write_text(
        "domain,source_system,source_code,target_code,comment\ndepartment,,ED-LOCAL,emergency,\n", encoding="utf-8")
    complaints = COMPLAINT_HEADER + "".join(f"{line}\n" for line in [
        f"c1,p1,e1,emergency,2026-01-05 09:00,,,{PHONE},phone,slow",
        "c2,p1,e1,ED-LOCAL,2026-01-05 09:00,,,Waiting,fax,slow",
        "c3,p1,e1,emergency,0001-01-01 09:00,,,waiting,phone,year 1",
        f"c4,p1,e1,emergency,9999-12-31 09:00,,,{PHONE},phone,year 9999",
    ])
    reviews = "".join(json.dumps(review) + "\n" for review in [
        {"review_id": "r1", "platform": "google", "department": EMAIL, "rating": 2, "posted_at": "2026-01-05 10:00"},
        {"review_id": "r2", "platform": "myspace", "department": "surgery", "rating": 4,
         "posted_at": "2026-01-05 10:00"},
    ])
    batches = _land(settings, {f"relations/{DAY}/complaints.csv": complaints,
                               f"relations/{DAY}/reviews.jsonl": reviews})
    report = validate_stage(settings, settings.work_path, "staging", batches, "r1")
    assert report.rows_quarantined == 2
    assert _quarantined(settings, "complaints") == [(3, "implausible_time:received_at"),
                                                    (4, "implausible_time:received_at")]
    run_dbt(settings, settings.work_path, "build", "--exclude", "resource_type:test", "resource_type:unit_test")
    with duckdb.connect(str(settings.work_path), read_only=True) as conn:
        assert conn.execute(
            "select complaint_id, department_code, department_null_reason, complaint_category, "
            "complaint_category_null_reason, complaint_channel, complaint_channel_null_reason "
            "from staging.stg_relations__complaints order by 1").fetchall() == [
            ("c1", "emergency", None, None, "code_not_in_list", "phone", None),
            ("c2", "emergency", None, "waiting", None, None, "code_not_in_list"),
        ]
        assert conn.execute("select complaint_id, complaint_category from marts.fct_complaints order by 1"
                            ).fetchall() == [("c1", None), ("c2", "waiting")]
        assert conn.execute(
            "select review_id, department_code, department_null_reason, review_platform, review_platform_null_reason "
            "from staging.stg_relations__reviews order by 1").fetchall() == [
            ("r1", None, "code_not_in_list", "google", None), ("r2", "surgery", None, None, "code_not_in_list")]
        months = conn.execute("select distinct year(month_start_date) from marts.metrics_loyalty_monthly").fetchall()
        assert months == [(2026,)]
        failed = conn.execute("select rule, unexpected_count from ops.dq_results where not success order by 1"
                              ).fetchall()
        for needle in ("myspace", "fax"):  # unknown codes are not published past raw
            assert conn.execute("select count(*) from marts.fct_complaints t, marts.fct_reviews r "
                                "where cast(t as varchar) like ? or cast(r as varchar) like ?",
                                [f"%{needle}%", f"%{needle}%"]).fetchone() == (0,)
        # c1 and c4 hold the phone as category (c4 is then refused for its year)
        assert failed == [("complaint_category_known", 2), ("complaint_channel_known", 1),
                          ("review_department_known", 1), ("review_platform_known", 1), ("values_readable", 2)]
        # c4 (quarantined) also held the phone: scrubbed at load like free text, so raw and
        # quarantine.rows.original_values never hold it either
        assert conn.execute("select original_values like '%[phone]%' from quarantine.rows "
                            "where _row_number = 4").fetchone() == (True,)
        for needle in (PHONE, EMAIL):
            for table, in conn.execute(
                    "select table_schema || '.' || table_name from information_schema.tables "
                    "where table_schema in ('raw', 'quarantine', 'staging', 'intermediate', 'marts', 'ops')"
                    ).fetchall():
                text = conn.execute(f"select count(*) from {table} t where cast(t as varchar) like ?",
                                    [f"%{needle}%"]).fetchone()
                assert text == (0,), f"{needle} in {table}"
    assert _scan(settings.site_dir / "quality", PHONE) == []
    assert _scan(settings.site_dir / "quality", EMAIL) == []
