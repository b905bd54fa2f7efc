"""Identifiers real FHIR exports carry outside the places the demo generator uses: absolute and
versioned Patient references, a ``display`` that is not right beside its ``reference``, the
narrative ``text`` of any resource, References given by an identifier (a resident ID, an MRN) and
``contained`` resources (a contained Patient or RelatedPerson with name, phone and address). The
real loader, then the privacy scan of the resulting DuckDB."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import date, datetime
from pathlib import Path

import duckdb

from journey.ingest.landing import discover
from journey.ingest.loader import load_file
from journey.ingest.pseudonymise import install_macros
from journey.privacy.scan import Needle, scan
from journey.warehouse.schema import ensure_schema

DAY = date(2026, 1, 5)
SECRET = b"leak-tests"
PID = "pat-778899"
NAME, PHONE = "欧阳娜娜", "13712345678"
KEY = hmac.new(SECRET, PID.encode(), hashlib.sha256).hexdigest()

RESOURCES = [
    {  # display after an intervening "type"; narrative naming the patient
        "resourceType": "Encounter", "id": "e1", "status": "finished", "class": {"code": "EMER"},
        "text": {"status": "generated", "div": f"<div>急诊 {NAME}，电话 {PHONE}</div>"},
        "subject": {"reference": f"Patient/{PID}", "type": "Patient", "display": NAME},
    },
    {  # absolute URL reference, display first with a "type" in between
        "resourceType": "Appointment", "id": "a1", "status": "booked",
        "participant": [{"actor": {"display": NAME, "type": "Patient",
                                   "reference": f"https://ehr.example.org/fhir/Patient/{PID}"}}],
    },
    {  # versioned reference
        "resourceType": "QuestionnaireResponse", "id": "q1", "encounter": {"reference": "Encounter/e1"},
        "subject": {"reference": f"Patient/{PID}/_history/3"},
    },
]


def _load(tmp_path: Path, lines: list[str] | None = None) -> Path:
    folder = tmp_path / "landing" / "ehr" / DAY.isoformat()
    folder.mkdir(parents=True)
    lines = lines or [json.dumps(r, ensure_ascii=False) for r in RESOURCES]
    (folder / "export.ndjson").write_text("\n".join(lines) + "\n", encoding="utf-8")
    path = tmp_path / "w.duckdb"
    conn = duckdb.connect(str(path))
    ensure_schema(conn)
    install_macros(conn, SECRET)
    for landed in discover(tmp_path / "landing", [DAY]):
        assert load_file(conn, landed, run_id="r", loaded_at=datetime(2026, 1, 6)).status == "loaded"
    conn.close()
    return path


def test_no_identifier_survives_real_world_reference_shapes_and_narratives(tmp_path: Path) -> None:
    path = _load(tmp_path)
    report = scan([Needle("name", NAME), Needle("phone", PHONE), Needle("patient_id", PID)], warehouse=path)
    assert report.clean, report.summary()


def test_every_reference_shape_gets_the_same_patient_key(tmp_path: Path) -> None:
    conn = duckdb.connect(str(_load(tmp_path)), read_only=True)
    refs = conn.execute(
        """select resource ->> '$.subject.reference' from raw.ehr_encounter
           union all select resource ->> '$.participant[0].actor.reference' from raw.ehr_appointment
           union all select resource ->> '$.subject.reference' from raw.ehr_questionnaire_response"""
    ).fetchall()
    assert refs == [(f"Patient/{KEY}",)] * 3
    encounter = json.loads(conn.execute("select resource from raw.ehr_encounter").fetchone()[0])
    # the allow-list keeps a Reference's reference and identifier only (no display, no type)
    assert "text" not in encounter and encounter["subject"] == {"reference": f"Patient/{KEY}"}


def test_a_narrative_is_dropped_whatever_the_spelling_of_its_key(tmp_path: Path) -> None:
    """The narrative never lands (the allow-list builds a new object from parsed keys), also when the
    key is written with a JSON escape (``"\\u0074ext"``: a text search for ``"text"`` would miss it);
    a CodeableConcept's free ``text`` deeper in the resource is not read and does not land either."""
    escaped = json.dumps({"resourceType": "Encounter", "id": "e3", "status": "finished", "class": {"code": "AMB"},
                          "subject": {"reference": "Patient/p3"}, "TEXT": {"div": f"<div>{NAME}</div>"}})
    nested = {"resourceType": "Encounter", "id": "e4", "status": "finished", "class": {"code": "AMB"},
              "subject": {"reference": "Patient/p4"}, "type": [{"text": "急诊"}]}
    conn = duckdb.connect(str(_load(tmp_path, [escaped.replace('"TEXT"', '"\\u0074ext"'),
                                               json.dumps(nested, ensure_ascii=False)])), read_only=True)
    kept = dict(conn.execute("select resource_id, resource from raw.ehr_encounter").fetchall())
    assert "text" not in json.loads(kept["e3"])
    assert NAME not in json.dumps(json.loads(kept["e3"]), ensure_ascii=False)
    assert "type" not in json.loads(kept["e4"])


# --------------------------------------------------------------------------------------------------
# References by identifier and contained resources
# --------------------------------------------------------------------------------------------------
RESIDENT_ID_SYSTEM = "urn:oid:2.16.156.10011.1.1"
NATIONAL_ID, MRN = "110101199003071234", "MRN0098877"
ADDRESS, RELATIVE, RELATIVE_PHONE = "朝阳区建国路88号", "欧阳大伟", "13698765432"


def _token_key(system: str, value: str) -> str:
    """What an identifier value becomes: HMAC of the FHIR token ``system|value``."""
    return hmac.new(SECRET, f"{system}|{value}".encode(), hashlib.sha256).hexdigest()


BY_IDENTIFIER = [
    {  # a survey whose patient is given only by resident ID, with a display, and its own identifier
        "resourceType": "QuestionnaireResponse", "id": "q2", "encounter": {"reference": "Encounter/e1"},
        "identifier": {"system": "https://ehr.example.org/survey", "value": "S-2026-0001"},
        "subject": {"identifier": {"system": RESIDENT_ID_SYSTEM, "value": NATIONAL_ID,
                                   "type": {"coding": [{"code": "NI"}]}}, "display": NAME},
    },
    {  # an encounter whose subject is only an identifier: refused (subject.reference is required)
        "resourceType": "Encounter", "id": "e2", "status": "finished", "class": {"code": "AMB"},
        "identifier": [{"system": "https://ehr.example.org/visit", "value": "V-1"}],
        "subject": {"identifier": {"system": RESIDENT_ID_SYSTEM, "value": NATIONAL_ID}, "display": NAME},
    },
    {  # a reference and an identifier (an MRN with no system), and an identifier in an assigner
        "resourceType": "Appointment", "id": "a2", "status": "booked",
        "participant": [{"actor": {"reference": f"Patient/{PID}", "display": NAME, "identifier": {
            "value": MRN, "assigner": {"identifier": {"system": "urn:org", "value": "ORG-1"}, "display": "某医院"}}}}],
    },
]

CONTAINED = {
    "resourceType": "Encounter", "id": "e3", "status": "finished", "class": {"code": "EMER"},
    "contained": [
        {"resourceType": "Patient", "id": "pat", "gender": "female", "birthDate": "1990-03-07",
         "name": [{"text": NAME}], "telecom": [{"system": "phone", "value": PHONE}],
         "identifier": [{"system": RESIDENT_ID_SYSTEM, "value": NATIONAL_ID}],
         "address": [{"text": ADDRESS, "district": "朝阳区"}],
         "text": {"status": "generated", "div": f"<div>{NAME}</div>"}},
        {"resourceType": "RelatedPerson", "id": "rp", "patient": {"reference": f"Patient/{PID}"},
         "name": [{"text": RELATIVE}], "telecom": [{"value": RELATIVE_PHONE}], "address": [{"text": ADDRESS}]},
        {"resourceType": "Location", "id": "loc", "name": "急诊分诊台",
         "text": {"status": "generated", "div": f"<div>{NAME} 在分诊台</div>"}},
    ],
    "subject": {"reference": f"Patient/{PID}"},
    "participant": [{"individual": {"reference": "#rp", "display": RELATIVE}}],
    "location": [{"location": {"reference": "#loc", "display": "急诊分诊台"}}],
}

NEEDLES = [Needle("name", NAME), Needle("name", RELATIVE), Needle("phone", PHONE), Needle("phone", RELATIVE_PHONE),
           Needle("national_id", NATIONAL_ID), Needle("mrn", MRN), Needle("address", ADDRESS),
           Needle("birth_date", "1990-03-07"), Needle("patient_id", PID)]


def _load_lines(tmp_path: Path, resources: list[dict[str, object]]) -> duckdb.DuckDBPyConnection:
    folder = tmp_path / "landing" / "ehr" / DAY.isoformat()
    folder.mkdir(parents=True)
    (folder / "export.ndjson").write_text(
        "\n".join(json.dumps(r, ensure_ascii=False) for r in resources) + "\n", encoding="utf-8"
    )
    conn = duckdb.connect(str(tmp_path / "w.duckdb"))
    ensure_schema(conn)
    install_macros(conn, SECRET)
    for landed in discover(tmp_path / "landing", [DAY]):
        load_file(conn, landed, run_id="r", loaded_at=datetime(2026, 1, 6))
    return conn


def _resource(conn: duckdb.DuckDBPyConnection, table: str) -> dict[str, object]:
    row = conn.execute(f"select resource from raw.{table}").fetchone()
    assert row is not None
    return dict(json.loads(row[0]))


def test_a_reference_by_identifier_keeps_only_a_keyed_identifier_and_no_display(tmp_path: Path) -> None:
    conn = _load_lines(tmp_path, BY_IDENTIFIER)
    survey = _resource(conn, "ehr_questionnaire_response")
    keyed = _token_key(RESIDENT_ID_SYSTEM, NATIONAL_ID)
    assert survey["subject"] == {"identifier": {"system": RESIDENT_ID_SYSTEM, "value": keyed}}
    # the survey's own identifier is not in the contract: not kept
    assert "identifier" not in survey
    appointment = _resource(conn, "ehr_appointment")
    assert appointment["participant"] == [  # an identifier's type and assigner are not kept
        {"actor": {"reference": f"Patient/{KEY}", "identifier": {"value": _token_key("", MRN)}}}
    ]
    # the encounter lacks subject.reference: quarantined, its identifier keyed the same way
    rule, original = conn.execute("select rule, original_values from quarantine.rows").fetchone()
    assert rule == "required:subject.reference"
    encounter = json.loads(original)
    assert encounter["subject"] == {"identifier": {"system": RESIDENT_ID_SYSTEM, "value": keyed}}
    assert "identifier" not in encounter
    conn.close()
    report = scan(NEEDLES, warehouse=tmp_path / "w.duckdb")
    assert report.clean, report.summary()


def test_contained_persons_lose_their_identity_and_local_references_their_display(tmp_path: Path) -> None:
    conn = _load_lines(tmp_path, [CONTAINED])
    encounter = _resource(conn, "ehr_encounter")
    # staging reads no contained resource and no Encounter.participant: neither lands
    assert "contained" not in encounter and "participant" not in encounter
    # a location's display is read (the role keyword): kept, scrubbed
    assert encounter["location"] == [{"location": {"reference": "#loc", "display": "急诊分诊台"}}]
    assert encounter["subject"] == {"reference": f"Patient/{KEY}"}
    conn.close()
    report = scan(NEEDLES, warehouse=tmp_path / "w.duckdb")
    assert report.clean, report.summary()


def test_a_contained_patient_inside_a_patient_and_a_refused_line_are_filtered_too(tmp_path: Path) -> None:
    patient = {"resourceType": "Patient", "id": PID, "name": [{"text": NAME}],
               "contained": [{"resourceType": "RelatedPerson", "id": "mum", "name": [{"text": RELATIVE}],
                              "telecom": [{"value": RELATIVE_PHONE}]}],
               "generalPractitioner": [{"identifier": {"value": "GP-7"}, "display": "张医生"}]}
    refused = {**CONTAINED, "id": "e4", "status": None}
    conn = _load_lines(tmp_path, [patient, refused])
    stored = _resource(conn, "ehr_patient")
    # a Patient is rebuilt from the allow-list: its contained relatives and practitioners never land
    assert "contained" not in stored and "generalPractitioner" not in stored
    assert set(stored) == {"resourceType", "id", "_journey"}
    original = json.loads(conn.execute("select original_values from quarantine.rows").fetchone()[0])
    assert "contained" not in original and original["id"] == "e4"  # a refused row is allow-listed too
    assert conn.execute("select content_sha256 from quarantine.rows").fetchone()[0] == hashlib.sha256(
        json.dumps(refused, ensure_ascii=False).encode()).hexdigest()
    conn.close()
    report = scan(NEEDLES, warehouse=tmp_path / "w.duckdb")
    assert report.clean, report.summary()


RELATIVE = "王芳"


def test_a_relatives_name_next_to_a_relatedperson_reference_is_dropped(tmp_path: Path) -> None:
    appointment = {
        "resourceType": "Appointment", "id": "a9", "status": "booked",
        "participant": [
            {"actor": {"reference": f"Patient/{PID}", "display": NAME}},
            {"actor": {"display": f"{RELATIVE}（母亲）", "reference": "RelatedPerson/rp-1"}},
            {"actor": {"reference": "Person/p-2", "type": "Person", "display": RELATIVE}},
            {"actor": {"reference": "Practitioner/dr-1", "display": "Dr. Li"}},
        ],
    }
    conn = _load_lines(tmp_path, [appointment])
    assert _resource(conn, "ehr_appointment")["participant"] == [
        {"actor": {"reference": f"Patient/{KEY}"}},
        {"actor": {"reference": "RelatedPerson/rp-1"}},
        {"actor": {"reference": "Person/p-2"}},
        {"actor": {"reference": "Practitioner/dr-1"}},  # no display is read, a staff name neither
    ]
    conn.close()


# --------------------------------------------------------------------------------------------------
# Conditional references (``Patient?identifier=system|value``, as bulk exports write them): the
# identifier in the reference string is keyed like a Reference.identifier, any other search parameter
# and the display dropped; Patient and Location keep keyed tokens of their identifier[] to be
# resolved by (stg_ehr__patient_identifiers, stg_ehr__location_identifiers).
# --------------------------------------------------------------------------------------------------
CONDITIONAL = [
    {  # system and value, `|` URL-encoded, a display with the name, another search parameter
        "resourceType": "Encounter", "id": "e1", "status": "finished", "class": {"code": "EMER"},
        "subject": {"display": NAME,
                    "reference": f"Patient?identifier={RESIDENT_ID_SYSTEM}%7C{NATIONAL_ID}&name={NAME}"},
        "location": [{"location": {"reference": "Location?identifier=https://hospital.example/loc|WR-1"}}],
    },
    {  # an absolute conditional reference with a plain `|`, and one without a system
        "resourceType": "Appointment", "id": "a1", "status": "booked",
        "participant": [{"actor": {"reference": f"https://ehr.example/fhir/Patient?identifier={RESIDENT_ID_SYSTEM}|"
                                                f"{NATIONAL_ID}"}},
                        {"actor": {"reference": f"RelatedPerson?identifier={NATIONAL_ID}"}}],
    },
    {"resourceType": "Patient", "id": PID, "name": [{"text": NAME}],
     "identifier": [{"system": RESIDENT_ID_SYSTEM, "value": NATIONAL_ID}, {"value": " "}]},
    {"resourceType": "Location", "id": "wr",
     "identifier": [{"system": "https://hospital.example/loc", "value": "WR-1"}]},
]


def test_a_conditional_patient_reference_is_keyed_and_its_display_dropped(tmp_path: Path) -> None:
    conn = _load_lines(tmp_path, CONDITIONAL)
    keyed = _token_key(RESIDENT_ID_SYSTEM, NATIONAL_ID)
    encounter = _resource(conn, "ehr_encounter")
    assert encounter["subject"] == {"reference": f"Patient?identifier={keyed}"}
    # a Location identifier is not personal: kept in clear, resolved in dbt
    assert encounter["location"] == [
        {"location": {"reference": "Location?identifier=https://hospital.example/loc|WR-1"}}]
    appointment = _resource(conn, "ehr_appointment")
    assert appointment["participant"] == [
        {"actor": {"reference": f"Patient?identifier={keyed}"}},
        {"actor": {"reference": f"RelatedPerson?identifier={_token_key('', NATIONAL_ID)}"}},
    ]
    conn.close()
    report = scan(NEEDLES, warehouse=tmp_path / "w.duckdb")
    assert report.clean, report.summary()


def test_patient_and_location_keep_keyed_identifier_tokens_never_the_value(tmp_path: Path) -> None:
    conn = _load_lines(tmp_path, CONDITIONAL)
    patient = _resource(conn, "ehr_patient")
    assert patient["id"] == KEY and "identifier" not in patient
    assert sorted(patient["_journey"]["identifierKeys"]) == sorted(  # type: ignore[index]
        [_token_key(RESIDENT_ID_SYSTEM, NATIONAL_ID), _token_key("", NATIONAL_ID)])
    location = _resource(conn, "ehr_location")
    assert location["identifier"] == [{"system": "https://hospital.example/loc", "value": "WR-1"}]
    assert sorted(location["_journey"]["identifierKeys"]) == sorted(  # type: ignore[index]
        [_token_key("https://hospital.example/loc", "WR-1"), _token_key("", "WR-1")])
    raw = json.dumps(conn.execute("select list(resource) from raw.ehr_patient").fetchone())
    assert NATIONAL_ID not in raw
    conn.close()
