"""The FHIR allow-list (journey.ingest.allowlist): raw keeps exactly what the contract lists, and the
contract (data/README.md, "Raw keeps exactly") lists exactly what the specs keep."""

from __future__ import annotations

import json
import re
from datetime import date, datetime
from pathlib import Path

import duckdb
import pytest

from journey.ingest.allowlist import KEEP_SPECS, Each, keep_sql, kept_paths
from journey.ingest.landing import discover
from journey.ingest.loader import load_file
from journey.ingest.pseudonymise import install_macros
from journey.warehouse.schema import ensure_schema

README = Path(__file__).resolve().parents[3] / "data" / "README.md"
DAY = date(2026, 1, 5)
NAME, PHONE, RESIDENT_ID = "欧阳娜娜", "13712345678", "440305198506127714"
EXT = [{"url": "https://hospital.example/secret", "valueString": f"{NAME} {PHONE}"}]


def test_readme_lists_exactly_the_paths_each_spec_keeps() -> None:
    text = README.read_text(encoding="utf-8")
    blocks = dict(re.findall(r"<!-- allow-list (\w+) -->\n(.*?)<!-- end allow-list -->", text, re.S))
    assert set(blocks) == set(KEEP_SPECS)
    for resource_type, spec in KEEP_SPECS.items():
        listed = re.findall(r"`([^`]+)`", blocks[resource_type].split(":", 1)[1].split(". Nothing else")[0])
        assert listed == kept_paths(spec), resource_type


def test_every_member_staging_reads_is_kept() -> None:
    """Every member name in a JSON path of a models/staging/ehr model (``resource ->> '$.period.start'``,
    ``element ->> '$.location.display'``, ``extension ->> '$.url'``) is kept somewhere in the allow-list
    of the resource type the model reads: a member staging reads but raw drops would silently be NULL."""
    models = Path(__file__).resolve().parents[3] / "models" / "staging" / "ehr"
    table_type = {"ehr_encounter": "Encounter", "ehr_appointment": "Appointment", "ehr_slot": "Slot",
                  "ehr_questionnaire_response": "QuestionnaireResponse", "ehr_location": "Location",
                  "ehr_patient": "Patient"}
    checked = 0
    for model in sorted(models.glob("stg_ehr__*.sql")):
        sql = model.read_text(encoding="utf-8")
        types = {table_type[table] for table in re.findall(r"'(ehr_\w+)'", sql) if table in table_type}
        if not types:
            continue
        kept = {member for name in types for path in kept_paths(KEEP_SPECS[name])
                for member in re.sub(r"\[[^\]]*\]", "", path).split(".")}
        for path in re.findall(r"'\$\.([A-Za-z_.\[\]*0-9]+)'", sql):
            for member in re.sub(r"\[[^\]]*\]", "", path).split("."):
                assert member in kept or member == "_journey" or path.startswith("_journey"), (model.name, path)
                checked += 1
    assert checked > 50


@pytest.fixture
def conn() -> duckdb.DuckDBPyConnection:
    connection = duckdb.connect()
    install_macros(connection, b"k")
    return connection


def _kept(conn: duckdb.DuckDBPyConnection, resource_type: str, resource: dict[str, object]) -> object:
    row = conn.execute(f"select {keep_sql(KEEP_SPECS[resource_type], 'line')} from (select ? as line)",
                       [json.dumps(resource, ensure_ascii=False)]).fetchone()
    assert row is not None
    return json.loads(row[0]) if row[0] is not None else None


def test_an_encounter_keeps_its_contract_and_nothing_else(conn: duckdb.DuckDBPyConnection) -> None:
    encounter = {
        "resourceType": "Encounter", "id": "e1", "status": "finished", "extension": EXT,
        "modifierExtension": EXT, "text": {"div": NAME}, "meta": {"lastUpdated": "2026-01-05T10:00:00+08:00",
                                                                   "source": NAME},
        "class": {"system": "v3", "code": "EMER", "display": NAME, "extension": EXT},
        "subject": {"reference": "Patient/p1", "extension": EXT, "display": NAME, "type": "Patient"},
        "reasonCode": [{"text": f"胸痛，联系 {PHONE}"}],
        "participant": [{"individual": {"display": NAME}}],
        "serviceType": {"coding": [{"system": "s", "code": "ED", "display": NAME}], "text": NAME},
        "location": [{"location": {"reference": "Location/wr", "display": f"候诊区 {PHONE}"},
                      "period": {"start": "a", "extension": EXT}, "status": "completed"},
                     {"physicalStatus": {"text": NAME}}],
        "statusHistory": [{"status": "arrived", "period": {"start": "a"}, "extension": EXT}],
        "hospitalization": {"dischargeDisposition": {"coding": [{"code": "home"}], "text": NAME},
                            "origin": {"display": NAME}},
        "period": {"start": {"nested": NAME}, "end": "b"},
        "unknownElement": NAME,
    }
    assert _kept(conn, "Encounter", encounter) == {
        "resourceType": "Encounter", "id": "e1", "meta": {"lastUpdated": "2026-01-05T10:00:00+08:00"},
        "status": "finished", "class": {"system": "v3", "code": "EMER"}, "subject": {"reference": "Patient/p1"},
        "serviceType": {"coding": [{"system": "s", "code": "ED"}]},
        "period": {"end": "b"},  # a scalar element holding an object is dropped
        "statusHistory": [{"status": "arrived", "period": {"start": "a"}}],
        "location": [{"location": {"reference": "Location/wr", "display": "候诊区 [phone]"},
                      "status": "completed", "period": {"start": "a"}}, None],  # positions kept
        "hospitalization": {"dischargeDisposition": {"coding": [{"code": "home"}]}},
    }


def test_an_appointment_keeps_only_the_booking_channel_extension(conn: duckdb.DuckDBPyConnection) -> None:
    url = "https://journey.example/fhir/StructureDefinition/booking-channel"
    appointment = {
        "resourceType": "Appointment", "id": "a1", "status": "booked", "comment": f"{NAME} {PHONE}",
        "patientInstruction": f"请 {NAME} 空腹", "description": NAME,
        "extension": [*EXT, {"url": url, "valueCode": "wechat", "extension": EXT}],
        "participant": [{"actor": {"display": NAME}}, {"actor": {"reference": "Practitioner/d1", "display": NAME},
                                                       "type": [{"text": NAME}]}],
    }
    assert _kept(conn, "Appointment", appointment) == {
        "resourceType": "Appointment", "id": "a1", "status": "booked",
        "participant": [None, {"actor": {"reference": "Practitioner/d1"}}],
        "extension": [{"url": url, "valueCode": "wechat"}],
    }


def test_a_survey_keeps_a_scrubbed_comment_only_at_its_link_id(conn: duckdb.DuckDBPyConnection) -> None:
    survey = {
        "resourceType": "QuestionnaireResponse", "id": "q1", "encounter": {"reference": "Encounter/e1"},
        "identifier": {"value": RESIDENT_ID}, "author": {"display": NAME},
        "item": [
            {"linkId": "nps", "text": NAME, "answer": [{"valueInteger": 9, "valueString": PHONE}]},
            {"linkId": "comment", "answer": [{"valueString": f"电话{PHONE}", "item": [{"linkId": "x"}]}]},
            {"linkId": "group", "item": [{"linkId": "comment", "answer": [{"valueString": f"{NAME} {PHONE}"}]}]},
            {"linkId": "other", "answer": [{"valueString": f"{NAME} {PHONE}"}]},
        ],
    }
    assert _kept(conn, "QuestionnaireResponse", survey) == {
        "resourceType": "QuestionnaireResponse", "id": "q1", "encounter": {"reference": "Encounter/e1"},
        "item": [{"linkId": "nps", "answer": [{"valueInteger": 9}]},
                 {"linkId": "comment", "answer": [{"valueString": "电话[phone]"}]},
                 {"linkId": "group"}, {"linkId": "other"}],
    }


def test_specs_never_keep_an_extension_narrative_or_display_except_the_read_ones() -> None:
    for resource_type, spec in KEEP_SPECS.items():
        for path in kept_paths(spec):
            leaves = re.sub(r"\[[^\]]*\]", "", path).split(".")
            assert "text" not in leaves and "modifierExtension" not in leaves, (resource_type, path)
            assert "display" not in leaves or path == "location[].location.display", (resource_type, path)
            assert "extension" not in leaves or "booking-channel" in path, (resource_type, path)
    assert isinstance(KEEP_SPECS["Appointment"]["extension"], Each)  # type: ignore[index]


def test_jsonl_keeps_contract_fields_only_and_refuses_nested_values(tmp_path: Path) -> None:
    folder = tmp_path / "landing" / "relations" / DAY.isoformat()
    folder.mkdir(parents=True)
    rows = [
        {"review_id": "r1", "rating": 5, "posted_at": "2026-01-05T10:00:00", "text": f"好 {PHONE}",
         "author": NAME, "phone": PHONE, "meta": {"name": NAME}},
        {"review_id": "r2", "rating": 4, "posted_at": "2026-01-05T10:00:00", "department": {"email": "a@b.org",
                                                                                              "name": NAME}},
        {"review_id": "r3", "rating": 3, "posted_at": "2026-01-05T10:00:00", "text": [NAME, PHONE]},
    ]
    (folder / "reviews.jsonl").write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n",
                                          encoding="utf-8")
    db = duckdb.connect(str(tmp_path / "w.duckdb"))
    ensure_schema(db)
    install_macros(db, b"k")
    (landed,) = discover(tmp_path / "landing", [DAY])
    result = load_file(db, landed, run_id="r", loaded_at=datetime(2026, 1, 6))
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (3, 1, 2)
    assert db.execute("select review_id, text from raw.relations_reviews").fetchall() == [("r1", "好 [phone]")]
    assert db.execute("select list(rule order by _row_number), list(original_values) from quarantine.rows"
                      ).fetchone() == (["nested_value", "nested_value"], [None, None])
    dump = json.dumps(db.execute("select * from raw.relations_reviews").fetchall()
                      + db.execute("select * from quarantine.rows").fetchall(), default=str, ensure_ascii=False)
    assert NAME not in dump and PHONE not in dump and "a@b.org" not in dump
