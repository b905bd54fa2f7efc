"""With defect_rate 0 the landing honours data/README.md: files, fields, references, time order."""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta

import pyarrow.parquet as pq
from generate_helpers import (
    BOOKING_CHANNELS,
    DEPARTMENTS,
    START,
    TOUCH_CHANNELS,
    Run,
    day_end,
    instant,
    local,
    timeline,
)


def test_every_source_lands_a_drop_every_day(clean: Run) -> None:
    by_folder: dict[tuple[str, str], set[str]] = defaultdict(set)
    for path in clean.landing.files:
        by_folder[(path.parent.parent.name, path.parent.name)].add(path.name)
        assert path.stat().st_size > 0  # empty types are left out, as bulk exports do
    days = sorted({day for _, day in by_folder})
    assert len(days) == 28 and days[0] == START.isoformat()
    for day in days:
        ehr = by_folder[("ehr", day)]
        assert {"Patient.ndjson", "Appointment.ndjson", "Slot.ndjson"} <= ehr
        assert "Encounter.ndjson" in ehr or "Encounter.000.ndjson" in ehr
        assert "touches.jsonl" in by_folder[("crm", day)]
        assert {"follow_ups.csv", "complaints.csv"} <= by_folder[("relations", day)]
    surveyed = [day for day in days if "QuestionnaireResponse.ndjson" in by_folder[("ehr", day)]]
    assert surveyed == days[1:]  # surveys are answered from the day after a visit


def test_first_drop_holds_locations_and_all_known_campaigns(clean: Run) -> None:
    locations = {r.folder for r in clean.landing.fhir["Location"]}
    assert locations == {START.isoformat()}
    assert len(clean.landing.fhir["Location"]) == 16
    campaign_days = Counter(r.folder for r in clean.landing.tables["campaigns.csv"])
    assert campaign_days[START.isoformat()] >= 3  # the campaigns running or announced before the start
    assert 1 <= len(campaign_days) < 28  # later only when a campaign is announced or revised


def test_big_encounter_exports_are_split_and_unused_types_appear(clean: Run) -> None:
    parts = [p for p in clean.landing.files if re.fullmatch(r"Encounter\.\d{3}\.ndjson", p.name)]
    assert parts, "scale 0.1 has > 60 encounters a day: the export must be split"
    for path in parts:
        assert len(path.read_bytes().splitlines()) <= 60
        assert not (path.parent / "Encounter.ndjson").exists()
    condition_days = {r.folder for r in clean.landing.fhir["Condition"]}
    assert 3 <= len(condition_days) < 28


def test_resource_types_match_file_names(clean: Run) -> None:
    for resource_type, rows in clean.landing.fhir.items():
        assert {r.path.split("/")[-1].split(".")[0] for r in rows} == {resource_type}
    assert set(clean.landing.fhir) == {
        "Patient",
        "Encounter",
        "Appointment",
        "Slot",
        "QuestionnaireResponse",
        "Location",
        "Condition",
    }


def test_encounters_carry_the_required_elements_and_known_codes(clean: Run) -> None:
    encounters = [r.data for r in clean.landing.fhir["Encounter"]]
    assert len(encounters) > 2000
    assert len({e["id"] for e in encounters}) == len(encounters)
    for e in encounters:
        assert e["status"] == "finished"
        assert e["class"]["code"] in {"AMB", "EMER", "IMP"}
        assert e["serviceType"]["coding"][0]["code"] in DEPARTMENTS
        assert e["subject"]["reference"].startswith("Patient/")
        assert "null" not in json.dumps(e)  # absent elements are left out, never null


def test_every_reference_resolves_to_a_record_already_landed(clean: Run) -> None:
    landing = clean.landing
    patient_day = {r.data["id"]: r.folder for r in landing.fhir["Patient"]}
    assert len(patient_day) == len(landing.fhir["Patient"])  # each patient lands once
    encounter_day = {r.data["id"]: r.folder for r in landing.fhir["Encounter"]}
    for resource_type in ("Encounter", "QuestionnaireResponse", "Condition"):
        for row in landing.fhir[resource_type]:
            patient = row.data["subject"]["reference"].removeprefix("Patient/")
            assert patient_day[patient] <= row.folder, (resource_type, row.path, row.number)
    for row in landing.fhir["Appointment"]:
        patient = row.data["participant"][0]["actor"]["reference"].removeprefix("Patient/")
        assert patient_day[patient] <= row.folder
    for resource_type in ("QuestionnaireResponse", "Condition"):
        for row in landing.fhir[resource_type]:
            assert encounter_day[row.data["encounter"]["reference"].removeprefix("Encounter/")] <= row.folder
    for row in landing.tables["follow_ups.csv"]:
        assert encounter_day[row.data["encounter_id"]] <= row.folder
    for row in landing.tables["complaints.csv"]:
        assert not row.data["encounter_id"] or encounter_day[row.data["encounter_id"]] <= row.folder
        assert not row.data["patient_id"] or patient_day[row.data["patient_id"]] <= row.folder
    for row in landing.tables["touches.jsonl"]:
        assert row.data["patient_id"] is None or patient_day[row.data["patient_id"]] <= row.folder
    amb = [r.data for r in landing.fhir["Encounter"] if r.data["class"]["code"] == "AMB"]
    appointment_ids = landing.ids("Appointment")
    assert all(e["appointment"][0]["reference"].removeprefix("Appointment/") in appointment_ids for e in amb)
    slot_ids = landing.ids("Slot")  # snapshots start the day after the first drop
    later = [r.data for r in landing.fhir["Appointment"] if r.data["start"][:10] > START.isoformat()]
    assert later and all(a["slot"][0]["reference"].removeprefix("Slot/") in slot_ids for a in later)


def test_timestamps_are_in_order(clean: Run) -> None:
    for row in clean.landing.fhir["Encounter"]:
        e = row.data
        times = timeline(e)
        order = [times[k] for k in ("arrival", "triage", "provider", "departure") if k in times]
        assert order == sorted(order), (row.path, row.number)
        assert instant(e["period"]["start"]) <= instant(e["period"]["end"])
        for loc in e.get("location", []):
            assert instant(loc["period"]["start"]) <= instant(loc["period"]["end"])
    for row in clean.landing.fhir["Appointment"]:
        a = row.data
        assert instant(a["created"]) <= instant(a["start"]) < instant(a["end"])
    for row in clean.landing.tables["follow_ups.csv"]:
        f = row.data
        stamps = [local(f[k]) for k in ("planned_at", "attempted_at", "completed_at") if f[k]]
        assert stamps == sorted(stamps)
    for row in clean.landing.tables["complaints.csv"]:
        c = row.data
        stamps = [local(c[k]) for k in ("received_at", "first_response_at", "resolved_at") if c[k]]
        assert stamps == sorted(stamps)


def _event_times(resource_type: str, data: dict) -> list[datetime]:
    """The timestamps that say when something happened (not when it is scheduled)."""
    if resource_type == "Slot" or resource_type == "Location":
        return [instant(data["meta"]["lastUpdated"])] if "meta" in data else []
    stamps = re.findall(r'"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00)"', json.dumps(data))
    if resource_type == "Appointment":
        return [instant(data["meta"]["lastUpdated"]), instant(data["created"])]
    return [instant(s) for s in stamps]


def test_nothing_happens_after_the_drop_it_lands_in(clean: Run) -> None:
    for resource_type, rows in clean.landing.fhir.items():
        for row in rows:
            assert all(t <= day_end(row.folder) for t in _event_times(resource_type, row.data)), row.path
    for name, rows in clean.landing.tables.items():
        for row in rows:
            for key, value in row.data.items():
                if key.endswith(("_at", "ts")) and value:
                    assert local(value) <= day_end(row.folder), (name, key, value)


def _check_char(digits17: str) -> str:
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    return "10X98765432"[sum(int(d) * w for d, w in zip(digits17, weights, strict=True)) % 11]


def test_patients_carry_real_looking_pii_and_are_all_planted(clean: Run) -> None:
    patients = {r.data["id"]: r.data for r in clean.landing.fhir["Patient"]}
    for p in patients.values():
        resident = next(i["value"] for i in p["identifier"] if i["system"] == "urn:oid:2.16.156.10011.1.1")
        assert re.fullmatch(r"\d{17}[\dX]", resident) and resident[17] == _check_char(resident[:17])
        assert resident[6:14] == p["birthDate"].replace("-", "")
        assert int(resident[16]) % 2 == (1 if p["gender"] == "male" else 0) or p["gender"] in {
            "other",
            "unknown",
        }
        phone = next(t["value"] for t in p["telecom"] if t["system"] == "phone")
        assert re.fullmatch(r"1[3-9]\d{9}", phone)
        assert p["address"][0]["city"] and p["address"][0]["line"][0]
        assert date.fromisoformat(p["birthDate"]) < START
    names = [p["name"][0]["text"] for p in patients.values()]
    assert sum(bool(re.search(r"[\u4e00-\u9fff]", n)) for n in names) > 0.8 * len(names)
    assert sum(bool(re.fullmatch(r"[A-Z][a-z]+ [A-Z][a-z]+", n)) for n in names) > 0  # English names too
    identities = pq.read_table(clean.record_dir / "identities.parquet").to_pylist()
    assert {i["patient_id"] for i in identities} == set(patients)
    for identity in identities[:200]:
        p = patients[identity["patient_id"]]
        assert identity["phone"] in {t["value"] for t in p["telecom"]}
        assert identity["national_id"] in {i["value"] for i in p["identifier"]}
        assert identity["birth_date"] == p["birthDate"]
        assert identity["address_line"] == p["address"][0]["line"][0]
        assert (identity["email"] is None) == ("email" not in {t["system"] for t in p["telecom"]})


def test_codes_are_from_the_contract(clean: Run) -> None:
    tables = clean.landing.tables
    assert {r.data["channel"] for r in tables["touches.jsonl"]} <= TOUCH_CHANNELS
    assert {r.data["action"] for r in tables["touches.jsonl"]} == {
        "impression",
        "click",
        "like",
        "comment",
        "share",
        "save",
        "booking",
    }
    assert {r.data["outcome"] for r in tables["follow_ups.csv"]} == {
        "reached",
        "no_answer",
        "wrong_number",
        "declined",
        "not_attempted",
    }
    planned = {r.data["planned_day"] for r in tables["follow_ups.csv"]}
    assert {"3", "7"} <= planned <= {"3", "7", "30"}  # day-30 calls land after the 28 days
    channels = {e["valueCode"] for r in clean.landing.fhir["Appointment"] for e in r.data["extension"]}
    assert channels == BOOKING_CHANNELS
    assert {r.data["platform"] for r in tables["reviews.jsonl"]} <= {"dianping", "google", "haodf", "wechat"}
    assert all(1 <= r.data["rating"] <= 5 for r in tables["reviews.jsonl"])
    assert {r.data["type"] for r in tables["campaigns.csv"]} <= {
        "screening_day",
        "health_lecture",
        "livestream",
        "community_clinic",
        "search_ads",
        "social_post",
    }
    assert all(re.fullmatch(r"\d+\.\d\d", r.data["budget"]) for r in tables["campaigns.csv"])


def test_clean_run_records_no_defects(clean: Run) -> None:
    assert clean.report.defects == {}
    assert (clean.record_dir / "defects.jsonl").read_bytes() == b""
    generation = json.loads((clean.record_dir / "generation.json").read_text())
    assert generation["parameters"]["days"] == 28
    assert generation["report"]["rows"] == clean.report.rows
    landed = Counter(f"{p.parent.parent.name}/{p.name.split('.')[0]}" for p in clean.landing.files)
    assert clean.report.files == sum(landed.values())
    assert clean.report.rows["ehr/Encounter"] == len(clean.landing.fhir["Encounter"])
    assert clean.report.rows["crm/touches"] == len(clean.landing.tables["touches.jsonl"])
    assert START + timedelta(days=27) == date.fromisoformat(max(r.folder for r in clean.landing.fhir["Slot"]))
