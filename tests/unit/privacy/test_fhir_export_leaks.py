"""Identifiers real FHIR exports carry outside the places the demo generator uses: absolute and
versioned Patient references, a ``display`` that is not right beside its ``reference``, and the
narrative ``text`` of any resource. The real loader, then the privacy scan of the resulting DuckDB."""

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


def _load(tmp_path: Path) -> Path:
    folder = tmp_path / "landing" / "ehr" / DAY.isoformat()
    folder.mkdir(parents=True)
    (folder / "export.ndjson").write_text(
        "\n".join(json.dumps(r, ensure_ascii=False) for r in RESOURCES) + "\n", encoding="utf-8"
    )
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
    assert "text" not in encounter and encounter["subject"] == {"reference": f"Patient/{KEY}", "type": "Patient"}
