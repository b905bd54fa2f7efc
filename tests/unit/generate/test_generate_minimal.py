"""`journey generate --profile minimal`: what FHIR bulk exports typically hold (period-only encounters,
no surveys / CRM / relations, conditional references, other and local classes, Patient extensions,
Bulk Data file names and an export log), the same bytes for the same seed, and the full profile
unchanged by it."""

from __future__ import annotations

import json
from collections import Counter
from datetime import date
from pathlib import Path

import pytest

from journey.config import Settings
from journey.profile import profile_landing
from journey_demo import generate
from journey_demo.minimal import LOCAL_CLASS_CODE, bulk_name

PARAMS = {"start": date(2026, 3, 2), "days": 3, "scale": 0.03, "seed": 11}


def _tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _resources(landing: Path, resource_type: str) -> list[dict[str, object]]:
    return [json.loads(line) for path in sorted(landing.glob(f"ehr/*/{resource_type}.*ndjson"))
            for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.fixture(scope="module")
def minimal(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("minimal")
    generate(root / "landing", root / "record", profile="minimal", **PARAMS)  # type: ignore[arg-type]
    return root


def test_only_ehr_ndjson_with_bulk_names_and_export_log(minimal: Path) -> None:
    files = sorted(p.relative_to(minimal / "landing").as_posix() for p in (minimal / "landing").rglob("*")
                   if p.is_file())
    assert {name.split("/")[0] for name in files} == {"ehr"}
    names = {name.split("/")[-1] for name in files}
    assert "log.ndjson" in names and "Encounter.000.ndjson" in names and "Patient.000.ndjson" in names
    assert not [name for name in names if name.startswith("QuestionnaireResponse")]
    assert all(name == "log.ndjson" or name.count(".") == 2 for name in names), names
    days = {name.split("/")[1] for name in files}
    assert len(days) == 3 and all((minimal / "landing" / "ehr" / day / "log.ndjson").is_file() for day in days)
    assert not (minimal / "record" / "full-landing").exists()
    log = (minimal / "landing" / "ehr" / sorted(days)[0] / "log.ndjson").read_text(encoding="utf-8").splitlines()
    assert all("resourceType" not in json.loads(line) for line in log)


def test_encounters_carry_only_period_and_conditional_references(minimal: Path) -> None:
    encounters = _resources(minimal / "landing", "Encounter")
    assert len(encounters) > 50
    for encounter in encounters:
        assert "statusHistory" not in encounter and "hospitalization" not in encounter
        assert "start" in encounter["period"]  # type: ignore[operator]
        for location in encounter.get("location", []):  # type: ignore[attr-defined]
            assert set(location) == {"location"}  # no period
            assert location["location"]["reference"].startswith("Location?identifier=")
        assert encounter["serviceProvider"]["reference"].startswith("Organization?identifier=")  # type: ignore[index]
    classes = Counter(e["class"]["code"] for e in encounters)  # type: ignore[index]
    assert {"AMB", "EMER", "VR", "HH", LOCAL_CLASS_CODE} <= set(classes), classes
    appointments = _resources(minimal / "landing", "Appointment")
    actors = [p["actor"]["reference"] for a in appointments for p in a["participant"]]  # type: ignore[attr-defined]
    assert any(ref.startswith("Practitioner?identifier=") for ref in actors)
    assert not any(ref.startswith("Practitioner/") for ref in actors)


def test_patients_carry_the_standard_extensions(minimal: Path) -> None:
    patients = _resources(minimal / "landing", "Patient")
    urls = Counter(ext["url"] for p in patients for ext in p["extension"])  # type: ignore[attr-defined]
    assert urls["http://hl7.org/fhir/StructureDefinition/patient-mothersMaidenName"] == len(patients)
    assert urls["http://hl7.org/fhir/StructureDefinition/patient-birthPlace"] == len(patients)
    locations = _resources(minimal / "landing", "Location")
    assert locations and all(loc["identifier"] for loc in locations)


def test_report_counts_the_minimal_rows(minimal: Path) -> None:
    generation = json.loads((minimal / "record" / "generation.json").read_text(encoding="utf-8"))
    assert generation["parameters"]["profile"] == "minimal"
    rows = generation["report"]["rows"]
    assert set(rows) <= {"ehr/Patient", "ehr/Location", "ehr/Encounter", "ehr/Appointment", "ehr/Slot",
                         "ehr/Condition"}
    assert rows["ehr/Encounter"] == len(_resources(minimal / "landing", "Encounter"))


def test_same_seed_same_bytes(minimal: Path, tmp_path: Path) -> None:
    generate(tmp_path / "landing", tmp_path / "record", profile="minimal", **PARAMS)  # type: ignore[arg-type]
    assert _tree(tmp_path / "landing") == _tree(minimal / "landing")


def test_full_profile_unchanged(tmp_path: Path) -> None:
    generate(tmp_path / "a" / "landing", tmp_path / "a" / "record", **PARAMS)  # type: ignore[arg-type]
    generate(tmp_path / "b" / "landing", tmp_path / "b" / "record", profile="full", **PARAMS)  # type: ignore[arg-type]
    assert _tree(tmp_path / "a" / "landing") == _tree(tmp_path / "b" / "landing")
    generation = json.loads((tmp_path / "a" / "record" / "generation.json").read_text(encoding="utf-8"))
    assert "profile" not in generation["parameters"]


def test_profile_of_the_minimal_export(minimal: Path, settings: Settings) -> None:
    profile = profile_landing(minimal / "landing", settings)
    assert profile.metric("ed_door_to_provider").status == "no_data"
    assert profile.metric("ed_lwbs").status == "no_data"
    assert profile.metric("nps").status == "no_data"
    assert profile.metric("campaign_funnel").status == "no_data"
    assert profile.metric("no_show_rate").status == "computable"
    assert profile.non_resource["export_log"] == 6  # two lines a day


@pytest.mark.parametrize(("name", "expected"), [("Encounter.ndjson", "Encounter.000.ndjson"),
                                                ("Encounter.003.ndjson", "Encounter.003.ndjson")])
def test_bulk_name(name: str, expected: str) -> None:
    assert bulk_name(name) == expected


def test_minimal_refuses_defects(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="defect_rate"):
        generate(tmp_path / "l", tmp_path / "r", profile="minimal", defect_rate=0.1, **PARAMS)  # type: ignore[arg-type]
