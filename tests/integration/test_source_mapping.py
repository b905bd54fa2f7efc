"""Source mapping and conditional references, on hand-written FHIR R4 shapes (not the generator):
encounter classes of the full v3 ActEncounterCode set and local ones mapped or not, the department
from each source in the configured order, Location roles from type / physicalType / an identifier
mapping, conditional references for Patient, Location, Organization and Practitioner, and the
unmapped codes counted. The real loader, real dbt, the real GX staging gate."""

from __future__ import annotations

import json
from datetime import date, datetime

import duckdb
import pytest

from journey.config import Settings
from journey.ingest.landing import discover
from journey.ingest.loader import load_file
from journey.mapping import code_map_path
from journey.quality.gate import validate_stage
from journey.runs import open_work
from journey.transform.dbt import run_dbt, run_staging

pytestmark = pytest.mark.slow
DAY = date(2026, 1, 5)
ACT = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
RESIDENT = "urn:oid:2.16.156.10011.1.1"
NATIONAL_ID = "110101199003071234"
LOC_IDS = "https://hospital.example/loc"
PHYSICAL = "http://terminology.hl7.org/CodeSystem/location-physical-type"

CODE_MAP = """domain,source_system,source_code,target_code,comment
encounter_class,urn:research,EW EMER.,EMER,research export's ED attendance
department,,ED,emergency,
department,,org-derm,dermatology,serviceProvider by id
department,urn:hosp:org,ORTHO,orthopedics,serviceProvider by identifier
department,,loc-onc,oncology,by location
discharge_disposition,urn:local,LWBS,lwbs,
location_role,urn:hosp:loctype,TRI,triage,
location_role,http://terminology.hl7.org/CodeSystem/location-physical-type,bd,treatment-room,
location_role,,https://hospital.example/loc|WR-1,waiting-room,by identifier
"""


def _period(start: str, end: str) -> dict[str, str]:
    return {"start": f"2026-01-05T{start}:00+08:00", "end": f"2026-01-05T{end}:00+08:00"}


def _encounter(encounter_id: str, code: str, system: str | None = ACT, **elements: object) -> dict[str, object]:
    klass = {"code": code} if system is None else {"system": system, "code": code}
    return {"resourceType": "Encounter", "id": encounter_id, "status": "finished", "class": klass,
            "subject": {"reference": "Patient/p1"}, "period": _period("08:00", "09:00"), **elements}


def _disposition(system: str, code: str) -> dict[str, object]:
    return {"dischargeDisposition": {"coding": [{"system": system, "code": code}]}}


def _service(code: str) -> dict[str, object]:
    return {"coding": [{"system": "urn:hosp:svc", "code": code}]}


ENCOUNTERS = [
    _encounter("e-hh", "HH", hospitalization=_disposition("http://snomed.info/sct", "21541000119102")),
    _encounter("e-vr", "vr", None, hospitalization=_disposition("urn:local", "GONE")),
    _encounter("e-acute", "ACUTE"),
    _encounter("e-xyz", "XYZ", None, serviceType={"coding": [{"code": "emergency"}]}),
    _encounter(  # a research export: local class, local service code, conditional references
        "e-ew", "EW EMER.", "urn:research",
        subject={"reference": f"Patient?identifier={RESIDENT}|{NATIONAL_ID}"},
        serviceType=_service("ED"),
        hospitalization=_disposition("urn:local", "LWBS"),
        location=[
            {"location": {"reference": f"Location?identifier={LOC_IDS}%7CTRI-1"}, "period": _period("08:05", "08:20")},
            {"location": {"reference": "Location/loc-bay"}, "period": _period("08:30", "09:00")},
        ],
    ),
    _encounter("e-type", "AMB", type=[{"coding": [{"system": "urn:x", "code": "cardiology"}]}]),
    _encounter("e-org", "AMB", serviceProvider={"reference": "Organization/org-derm"}),
    _encounter("e-orgid", "AMB", serviceProvider={"reference": "Organization?identifier=urn:hosp:org|ORTHO"}),
    _encounter("e-loc", "AMB", location=[{"location": {"reference": "Location/loc-onc"}}]),
    _encounter("e-both", "AMB", serviceType=_service("UNMAPPED-SVC"), type=[{"coding": [{"code": "surgery"}]}],
               location=[{"location": {"reference": "Location/loc-onc"}}]),
    _encounter("e-none", "AMB"),
    _encounter("e-zzz", "AMB", serviceType=_service("ZZZ")),
]
PATIENTS = [
    {"resourceType": "Patient", "id": "p1"},
    {"resourceType": "Patient", "id": "p2", "identifier": [{"system": RESIDENT, "value": NATIONAL_ID}]},
]
LOCATIONS = [
    {"resourceType": "Location", "id": "loc-tri", "identifier": [{"system": LOC_IDS, "value": "TRI-1"}],
     "type": [{"coding": [{"system": "urn:other", "code": "A"}, {"system": "urn:hosp:loctype", "code": "TRI"}]}]},
    {"resourceType": "Location", "id": "loc-bay", "physicalType": {"coding": [{"system": PHYSICAL, "code": "bd"}]}},
    {"resourceType": "Location", "id": "loc-wr", "identifier": [{"system": LOC_IDS, "value": "WR-1"}],
     "physicalType": {"coding": [{"system": PHYSICAL, "code": "ro"}]}},
    {"resourceType": "Location", "id": "loc-x", "type": [{"coding": [{"system": "urn:hosp:loctype", "code": "XRAY"}]}]},
    {"resourceType": "Location", "id": "loc-onc", "name": "Oncology day unit"},
]
APPOINTMENTS = [
    {"resourceType": "Appointment", "id": "a1", "status": "booked", "participant": [
        {"actor": {"reference": f"Patient?identifier={RESIDENT}|{NATIONAL_ID}"}},
        {"actor": {"reference": "Practitioner?identifier=urn:hosp:staff|D-17"}}]},
]


def _land_and_stage(settings: Settings) -> list[str]:
    folder = settings.landing_dir / "ehr" / DAY.isoformat()
    folder.mkdir(parents=True)
    for name, resources in (("Encounter", ENCOUNTERS), ("Patient", PATIENTS), ("Location", LOCATIONS),
                            ("Appointment", APPOINTMENTS)):
        (folder / f"{name}.ndjson").write_text("\n".join(json.dumps(r) for r in resources) + "\n", encoding="utf-8")
    code_map_path(settings).parent.mkdir(parents=True)
    code_map_path(settings).write_text(CODE_MAP, encoding="utf-8")
    conn = open_work(settings, settings.work_path)
    try:
        batches = [load_file(conn, landed, run_id="r1", loaded_at=datetime(2026, 1, 6)).batch_id
                   for landed in discover(settings.landing_dir, [DAY])]
    finally:
        conn.close()
    run_staging(settings, settings.work_path)
    return batches


def _query(settings: Settings, sql: str) -> list[tuple[object, ...]]:
    with duckdb.connect(str(settings.work_path), read_only=True) as conn:
        return conn.execute(sql).fetchall()


def test_classes_departments_dispositions_and_references_are_mapped(settings: Settings) -> None:
    batches = _land_and_stage(settings)
    assert _query(settings, """
        select encounter_id, encounter_class, encounter_class_code, encounter_class_source_code,
               encounter_class_null_reason
        from staging.stg_ehr__encounters where encounter_id in ('e-hh', 'e-vr', 'e-acute', 'e-xyz', 'e-ew')
        order by 1""") == [
        ("e-acute", "IMP", "ACUTE", "ACUTE", None),  # a specialisation of IMP reports as IMP
        ("e-ew", "EMER", "EMER", "EW EMER.", None),
        ("e-hh", "HH", "HH", "HH", None),
        ("e-vr", "VR", "VR", "vr", None),
        ("e-xyz", None, None, "XYZ", "class_unmapped"),  # kept, not defaulted
    ]
    assert _query(settings, """
        select encounter_id, department_code, department_source, department_source_code, department_null_reason
        from staging.stg_ehr__encounters where encounter_id not in ('e-hh', 'e-vr', 'e-acute') order by 1""") == [
        ("e-both", "surgery", "type", "surgery", None),  # serviceType unmapped: the next source decides
        ("e-ew", "emergency", "serviceType", "ED", None),
        ("e-loc", "oncology", "location", "loc-onc", None),
        ("e-none", None, None, None, "no_department_source"),
        ("e-org", "dermatology", "serviceProvider", "org-derm", None),
        ("e-orgid", "orthopedics", "serviceProvider", "ORTHO", None),
        ("e-type", "cardiology", "type", "cardiology", None),
        ("e-xyz", "emergency", "serviceType", "emergency", None),
        ("e-zzz", None, "serviceType", "ZZZ", "department_unmapped"),
    ]
    assert _query(settings, """
        select encounter_id, discharge_disposition_category, discharge_disposition_null_reason
        from staging.stg_ehr__encounters where encounter_id in ('e-hh', 'e-vr', 'e-ew', 'e-none') order by 1""") == [
        ("e-ew", "lwbs", None), ("e-hh", "lwbs", None), ("e-none", None, "no_disposition"),
        ("e-vr", None, "disposition_unmapped"),
    ]
    # Patient?identifier= resolved (by the keyed token) to the patient holding the resident ID
    assert _query(settings, """
        select count(*) from staging.stg_ehr__encounters as encounters
        join staging.stg_ehr__patients as patients using (patient_key)
        where encounter_id = 'e-ew' and patients.patient_key = (
            select patient_key from staging.stg_ehr__appointments where appointment_id = 'a1')""") == [(1,)]
    assert _query(settings, "select count(distinct patient_key) from staging.stg_ehr__patients") == [(2,)]
    assert _query(settings, "select practitioner_id from staging.stg_ehr__appointments") == [("urn:hosp:staff|D-17",)]
    assert _query(settings, """
        select location_id, location_role_code, location_role_evidence from staging.stg_ehr__locations order by 1
        """) == [("loc-bay", "treatment-room", "physical_type"), ("loc-onc", None, None),
                 ("loc-tri", "triage", "type"), ("loc-wr", "waiting-room", "location_mapping"),
                 ("loc-x", None, None)]
    assert _query(settings, "select * from staging.stg_ehr__unmapped_codes order by 1, 2") == [
        ("department", "serviceType", "urn:hosp:svc", "ZZZ", 1),
        ("discharge_disposition", "hospitalization.dischargeDisposition", "urn:local", "GONE", 1),
        ("encounter_class", "class", "", "XYZ", 1),
        ("location_role", "Location.type", "urn:hosp:loctype", "XRAY", 1),
    ]
    # the GX staging gate keeps every encounter and counts the unmapped ones
    report = validate_stage(settings, settings.work_path, "staging", batches, "r1")
    assert report.rows_quarantined == 0
    assert _query(settings, """
        select rule, severity, unexpected_count from ops.dq_results
        where not success and rule in ('encounter_class_mapped', 'department_mapped', 'discharge_disposition_mapped')
        order by 1""") == [("department_mapped", "warn", 1), ("discharge_disposition_mapped", "warn", 1),
                           ("encounter_class_mapped", "warn", 1)]
    assert _query(settings, "select count(*) from staging.stg_ehr__encounters") == [(len(ENCOUNTERS),)]
    # Location?identifier= resolved, its role from a type coding; the bay's from physicalType
    run_dbt(settings, settings.work_path, "run", "--select", "int_encounter_waits_derived")
    assert _query(settings, """
        select triaged_source, strftime(triaged_at, '%H:%M'), strftime(treatment_room_at, '%H:%M')
        from intermediate.int_encounter_waits_derived where encounter_id = 'e-ew'""") == [
        ("location", "00:05", "00:30")]


def test_a_changed_mapping_or_source_order_reaches_rows_already_built(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    _land_and_stage(settings)
    code_map_path(settings).write_text(CODE_MAP + "encounter_class,,XYZ,AMB,\n", encoding="utf-8")
    monkeypatch.setenv("JOURNEY_DEPARTMENT_SOURCES", "location,serviceType,type,serviceProvider")
    reordered = Settings()
    run_staging(reordered, reordered.work_path)  # nothing new landed: only the definition changed
    assert _query(reordered, """
        select encounter_id, encounter_class, department_code, department_source from staging.stg_ehr__encounters
        where encounter_id in ('e-xyz', 'e-both', 'e-ew') order by 1""") == [
        ("e-both", "AMB", "oncology", "location"),
        ("e-ew", "EMER", "emergency", "serviceType"),  # its location (by identifier) maps no department
        ("e-xyz", "AMB", "emergency", "serviceType"),
    ]
    assert _query(reordered, "select count(*) from staging.stg_ehr__unmapped_codes where domain = 'encounter_class'"
                  ) == [(0,)]
