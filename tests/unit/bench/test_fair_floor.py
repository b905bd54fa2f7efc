"""The fair floor (bench/fair_floor.py) on a landing written by hand from the FHIR R4 spec's shapes: every
landed line lands once, with its file and row; no Patient name, phone or identifier reaches the file;
Patient references, conditional ones included, carry journey's keyed hash."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import duckdb
import pytest

BENCH = Path(__file__).resolve().parents[3] / "bench"
sys.path.insert(0, str(BENCH))

from fair_floor import run_fair_floor  # noqa: E402

from journey.ingest.pseudonymise import install_macros  # noqa: E402

KEY = b"fair-floor-test-key"
DAY = "2026-03-02"
NAME, PHONE, MRN = "Zhang Wei", "+86 138 0013 8000", "MRN-77120"


def _ndjson(path: Path, resources: list[dict[str, object]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(resource) + "\n" for resource in resources), encoding="utf-8")


@pytest.fixture
def landing(tmp_path: Path) -> Path:
    root = tmp_path / "landing"
    ehr = root / "ehr" / DAY
    _ndjson(ehr / "Patient.ndjson", [
        {"resourceType": "Patient", "id": "p1", "name": [{"text": NAME}], "telecom": [{"value": PHONE}],
         "identifier": [{"system": "urn:oid:1.2.156.mrn", "value": MRN}], "birthDate": "1980-05-01",
         "address": [{"line": ["12 Renmin Road"], "city": "Hangzhou"}]},
    ])
    # Bulk exports often hold only `period`; the second subject is a conditional reference (FHIR R4 3.1.0.4.2).
    _ndjson(ehr / "Encounter.ndjson", [
        {"resourceType": "Encounter", "id": "e1", "status": "finished", "class": {"code": "EMER"},
         "subject": {"reference": "Patient/p1", "display": NAME},
         "period": {"start": "2026-03-02T08:00:00+08:00", "end": "2026-03-02T09:30:00+08:00"}},
        {"resourceType": "Encounter", "id": "e2", "status": "finished", "class": {"code": "AMB"},
         "subject": {"reference": f"Patient?identifier=urn:oid:1.2.156.mrn|{MRN}"},
         "period": {"start": "2026-03-02T10:00:00+08:00"}},
    ])
    _ndjson(ehr / "Location.ndjson", [{"resourceType": "Location", "id": "l1"}])
    _ndjson(ehr / "QuestionnaireResponse.ndjson", [
        {"resourceType": "QuestionnaireResponse", "id": "q1", "status": "completed",
         "encounter": {"reference": "Encounter/e1"}, "authored": "2026-03-03T10:00:00+08:00"},
    ])
    complaints = root / "relations" / DAY / "complaints.csv"
    complaints.parent.mkdir(parents=True)
    complaints.write_text(
        "complaint_id,patient_id,encounter_id,department,received_at,first_response_at,resolved_at,category,"
        "channel,description\n"
        f"c1,p1,e1,ED,{DAY}T11:00:00,,,wait,phone,long wait\n"
        f"c2,p1,e1,ED,{DAY}T12:00:00,,,staff,wechat,rude at desk\n", encoding="utf-8")
    return root


def test_every_line_lands_once_keyed_and_without_identifiers(landing: Path, tmp_path: Path) -> None:
    db = tmp_path / "fair_floor.duckdb"
    result = run_fair_floor(landing, db, KEY)

    tables = result["tables"]
    assert tables["ehr_patient"] == {"rows": 1, "files": 1}
    assert tables["ehr_encounter"] == {"rows": 2, "files": 1}
    assert tables["relations_complaints"] == {"rows": 2, "files": 1}
    assert result["landed_rows"] == 1 + 2 + 1 + 1 + 2

    with duckdb.connect(str(db), read_only=True) as conn:
        rows = conn.execute("select _source_file, _row_number from relations_complaints order by 2").fetchall()
        assert rows == [(f"relations/{DAY}/complaints.csv", 1), (f"relations/{DAY}/complaints.csv", 2)]
        stored = "\n".join(str(row) for table in ("ehr_patient", "ehr_encounter", "relations_complaints")
                           for row in conn.execute(f"select * from {table}").fetchall())
    for identifier in (NAME, PHONE, MRN, "Renmin", '"p1"', "p1,"):
        assert identifier not in stored, identifier

    with duckdb.connect() as conn:
        install_macros(conn, KEY)
        expected = conn.execute("select journey_key('p1')").fetchone()
    assert expected is not None
    assert f"Patient/{expected[0]}" in stored, "the direct reference carries the keyed id"
    with duckdb.connect() as conn:
        install_macros(conn, KEY)
        keyed_mrn = conn.execute("select journey_key(?)", [f"urn:oid:1.2.156.mrn|{MRN}"]).fetchone()
    assert keyed_mrn is not None and keyed_mrn[0] in stored, "the conditional reference's identifier is keyed"
