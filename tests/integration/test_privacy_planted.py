"""Issue #21, item 7: identifiers planted in every place the issue lists — FHIR elements outside the
contract (a ``subject.display`` behind an extension, a ``participant.individual`` with only a display,
``Encounter.reasonCode.text``, ``Appointment.comment`` / ``patientInstruction``, ``Patient.extension``
with a resident ID, a phone, ``patient-mothersMaidenName`` and ``patient-birthPlace``, a survey comment
nested in a group or under another linkId, a contained RelatedPerson) and free text written in every
form the scrubber must catch (complaint descriptions, review texts) — go through the real nightly flow,
and ``journey privacy-scan --needles <file>`` finds none of them in the warehouse (raw and quarantine
included), the logs or the sites.

The coded-column cases (a phone as ``complaints.category``, an e-mail as a review ``department``)
are planted in the same run and checked by a separate test: a code outside its list is published
NULL with ``code_not_in_list`` and scrubbed at load.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from journey.config import Settings
from journey_demo import generate

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("prefect")]

START = date(2026, 3, 2)
NAME, RELATIVE, MAIDEN = "司马相如", "卓文君", "王昭君"
BIRTHPLACE = "成都市锦江区春熙路九十九号"
PHONE, PHONE2 = "18677776543", "13912349876"
RESIDENT_ID = "44030519850612771X"
EMAIL = "sima.xiangru@example.org"
PATIENT_ID = "plant-p1"
#: Free text as patients write it: every form the scrubber must catch (issue #21), each also a literal
#: needle (the scan's digit needles allow one space, dot or dash between digits, not these forms).
FORMS = [
    f"Tel{PHONE}",
    f"ID{RESIDENT_ID}",
    "186.7777.6543",
    "139 - 1234 - 9876",
    "139/1234/9876",
    "186\n7777\n6543",
    "186\u200b7777\u200b6543",
    "139一二三四九八七六",
    "１８６７７７７６５４３",
    "sima.xiangru＠example.org",
    f"身份证 440305 1985\n0612 771X，{EMAIL}",
]
#: For the value-rules slice: identifiers in coded columns.
CODED_PHONE, CODED_EMAIL = "13700001111", "coded.leak@example.org"


def _ts(hour: int, minute: int = 0) -> str:
    return f"{START.isoformat()}T{hour:02d}:{minute:02d}:00+08:00"


def _fhir() -> list[dict[str, object]]:
    extension = [{"url": "https://hospital.example/fhir/StructureDefinition/note", "valueString": f"{NAME} {PHONE}"}]
    patient = {
        "resourceType": "Patient", "id": PATIENT_ID, "meta": {"lastUpdated": _ts(7)}, "gender": "male",
        "birthDate": "1985-06-12", "name": [{"text": NAME}],
        "telecom": [{"system": "phone", "value": PHONE}, {"system": "email", "value": EMAIL}],
        "identifier": [{"system": "urn:oid:2.16.156.10011.1.1", "value": RESIDENT_ID}],
        "address": [{"text": BIRTHPLACE, "city": "成都市", "district": "锦江区"}],
        "contact": [{"name": {"text": RELATIVE}, "telecom": [{"value": PHONE2}]}],
        "extension": [
            {"url": "https://hospital.example/fhir/StructureDefinition/resident-id", "valueString": RESIDENT_ID},
            {"url": "https://hospital.example/fhir/StructureDefinition/phone", "valueString": PHONE2},
            {"url": "http://hl7.org/fhir/StructureDefinition/patient-mothersMaidenName", "valueString": MAIDEN},
            {"url": "http://hl7.org/fhir/StructureDefinition/patient-birthPlace", "valueAddress": {"text": BIRTHPLACE}},
        ],
    }
    encounter = {
        "resourceType": "Encounter", "id": "plant-e1", "meta": {"lastUpdated": _ts(11)}, "status": "finished",
        "text": {"status": "generated", "div": f"<div>{NAME} {PHONE}</div>"}, "extension": extension,
        "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "EMER"},
        "serviceType": {"coding": [{"system": "https://journey.example/fhir/CodeSystem/department",
                                    "code": "emergency"}]},
        # an extension between reference and display (the deny-list regex missed the display)
        "subject": {"reference": f"Patient/{PATIENT_ID}", "extension": extension, "display": NAME},
        "participant": [{"individual": {"display": RELATIVE}}, {"individual": {"display": f"{NAME}（本人）"}}],
        "reasonCode": [{"text": f"{NAME} 胸痛，家属{RELATIVE} 电话 {PHONE2}"}],
        "contained": [{"resourceType": "RelatedPerson", "id": "rp", "name": [{"text": RELATIVE}],
                       "telecom": [{"value": PHONE2}], "address": [{"text": BIRTHPLACE}]}],
        "statusHistory": [{"status": "arrived", "period": {"start": _ts(9), "end": _ts(10)}},
                          {"status": "in-progress", "period": {"start": _ts(10), "end": _ts(11)}},
                          {"status": "finished", "period": {"start": _ts(11)}}],
        "period": {"start": _ts(9), "end": _ts(11)},
        "hospitalization": {"dischargeDisposition": {"text": f"{NAME} 回家", "coding": [{"code": "home"}]}},
    }
    appointment = {
        "resourceType": "Appointment", "id": "plant-a1", "meta": {"lastUpdated": _ts(8)}, "status": "booked",
        "created": _ts(8), "start": _ts(15), "end": _ts(15, 15),
        "serviceType": [{"coding": [{"code": "emergency"}]}],
        "comment": f"{NAME} 请回电 {PHONE}", "patientInstruction": f"由{RELATIVE}陪同，邮件 {EMAIL}",
        "participant": [{"actor": {"reference": f"Patient/{PATIENT_ID}", "display": NAME}},
                        {"actor": {"display": RELATIVE}}],
        "extension": extension,
    }
    survey = {
        "resourceType": "QuestionnaireResponse", "id": "plant-q1", "meta": {"lastUpdated": _ts(20)},
        "status": "completed", "questionnaire": "https://journey.example/fhir/Questionnaire/post-visit-survey",
        "encounter": {"reference": "Encounter/plant-e1"},
        "subject": {"reference": f"Patient/{PATIENT_ID}", "display": NAME}, "authored": _ts(20),
        "item": [
            {"linkId": "nps", "answer": [{"valueInteger": 9}]},
            {"linkId": "comment", "answer": [{"valueString": f"很好，有事打 Tel{PHONE}"}]},
            {"linkId": "group", "item": [{"linkId": "comment", "answer": [{"valueString": f"{NAME} {PHONE2}"}]}]},
            {"linkId": "feedback", "answer": [{"valueString": f"{RELATIVE} {EMAIL} {MAIDEN}"}]},
        ],
    }
    return [patient, encounter, appointment, survey]


def _plant(landing: Path) -> None:
    ehr = landing / "ehr" / START.isoformat()
    (ehr / "planted.ndjson").write_text(
        "\n".join(json.dumps(resource, ensure_ascii=False) for resource in _fhir()) + "\n", encoding="utf-8")
    relations = landing / "relations" / START.isoformat()
    complaints = [
        {"complaint_id": f"PLANT{number:02d}", "patient_id": PATIENT_ID, "encounter_id": "plant-e1",
         "department": "emergency", "received_at": f"{START.isoformat()}T12:{number:02d}:00",
         "first_response_at": "", "resolved_at": "", "category": "waiting", "channel": "phone",
         "description": f"等了3个小时，请联系 {form} 谢谢"}
        for number, form in enumerate(FORMS, start=1)
    ]
    complaints.append({**complaints[0], "complaint_id": "PLANTCODED", "category": CODED_PHONE,
                       "description": "no identifier here"})
    with (relations / "complaints.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(complaints[0]))
        writer.writeheader()
        writer.writerows(complaints)
    reviews = [
        {"review_id": f"PLANTR{number:02d}", "platform": "dianping", "department": "emergency", "rating": 3,
         "text": f"Waited for hours. Contact: {form}", "posted_at": f"{START.isoformat()}T18:{number:02d}:00",
         "author": NAME, "phone": PHONE, "profile": {"name": NAME, "email": EMAIL}}
        for number, form in enumerate(FORMS, start=1)
    ]
    reviews.append({"review_id": "PLANTRCODED", "platform": "dianping", "department": CODED_EMAIL, "rating": 4,
                    "text": "fine", "posted_at": f"{START.isoformat()}T19:00:00"})
    (relations / "reviews.jsonl").write_text(
        "\n".join(json.dumps(review, ensure_ascii=False) for review in reviews) + "\n", encoding="utf-8")


def _needles_file(path: Path, needles: list[tuple[str, str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["kind", "value"])
        writer.writerows(needles)
    return path


PLANTED = [
    ("name", NAME), ("name", RELATIVE), ("name", MAIDEN), ("address", BIRTHPLACE), ("phone", PHONE),
    ("phone", PHONE2), ("national_id", RESIDENT_ID), ("email", EMAIL), ("patient_id", PATIENT_ID),
    *(("text", form) for form in FORMS),
]


@pytest.fixture(scope="module")
def planted_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """One nightly run (day 1 and 2 of a tiny demo hospital, the planted files in day 1)."""
    from flows.nightly import nightly

    root = tmp_path_factory.mktemp("planted")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("JOURNEY_DATA_DIR", str(root / "data"))
        patch.setenv("JOURNEY_SECRET", "test-secret-not-for-production")
        patch.setenv("JOURNEY_LANDING_RETENTION_DAYS", "0")
        settings = Settings()
        settings.ensure_dirs()
        generate(settings.landing_dir, settings.generator_dir, start=START, days=2, scale=0.02, seed=5)
        _plant(settings.landing_dir)
        result = nightly(run_date=START + timedelta(days=1))
        assert result["status"] == "succeeded", result
        yield settings


def _privacy_scan(settings: Settings, needles: Path) -> tuple[int, str]:
    from journey.cli import app

    result = CliRunner().invoke(app, ["privacy-scan", "--needles", str(needles)], prog_name="journey")
    return result.exit_code, result.output


def test_planted_identifiers_reach_neither_warehouse_nor_logs_nor_sites(planted_run: Settings) -> None:
    settings = planted_run
    code, output = _privacy_scan(settings, _needles_file(settings.root / "planted-needles.csv", PLANTED))
    assert code == 0, output
    assert "no identifier found" in output
    # not vacuous: the planted rows are in raw, scrubbed; the planted resources are there, allow-listed
    conn = duckdb.connect(str(settings.warehouse_path), read_only=True)
    try:
        complaints = conn.execute("select list(description order by complaint_id) from raw.relations_complaints "
                                  "where complaint_id like 'PLANT%' and complaint_id <> 'PLANTCODED'").fetchone()
        reviews = conn.execute("select count(*) filter (where text like '%[phone]%' or text like '%[id]%' "
                               "or text like '%[email]%') from raw.relations_reviews "
                               "where review_id like 'PLANTR%' and review_id <> 'PLANTRCODED'").fetchone()
        encounter = conn.execute("select resource from raw.ehr_encounter where resource_id = 'plant-e1'").fetchone()
        comment = conn.execute("select comment_text from staging.stg_ehr__questionnaire_responses "
                               "where response_id = 'plant-q1'").fetchone()
    finally:
        conn.close()
    assert complaints is not None and len(complaints[0]) == len(FORMS)
    assert all("[phone]" in text or "[id]" in text or "[email]" in text for text in complaints[0]), complaints
    assert reviews == (len(FORMS),)
    assert encounter is not None and set(json.loads(encounter[0])) <= {
        "resourceType", "id", "meta", "status", "class", "serviceType", "subject", "statusHistory", "period",
        "hospitalization"}
    assert comment == ("很好，有事打 Tel[phone]",)
    # the same scan over the landing zone finds the planted identifiers (the needles do match)
    from journey.privacy.scan import load_needles, scan

    landing = scan(load_needles(settings.root / "planted-needles.csv"), folders=[settings.landing_dir])
    assert {"name", "phone", "national_id", "email", "address", "patient_id", "text"} <= {
        leak.kind for leak in landing.leaks}


def test_identifiers_in_coded_columns_are_not_published(planted_run: Settings) -> None:
    needles = _needles_file(planted_run.root / "coded-needles.csv", [("phone", CODED_PHONE), ("email", CODED_EMAIL)])
    code, output = _privacy_scan(planted_run, needles)
    assert code == 0, output
