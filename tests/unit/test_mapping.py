"""The site's code mapping file: validated at start (file, line, rule), then looked up like dbt does."""

from __future__ import annotations

from pathlib import Path

import pytest

from journey.config import Settings
from journey.errors import ConfigError
from journey.mapping import DOMAINS, ENCOUNTER_CLASSES, code_map_path, code_map_vars, load_code_map

HEADER = "domain,source_system,source_code,target_code,comment\n"


def _write(settings: Settings, text: str | bytes) -> Path:
    path = code_map_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def test_the_v3_act_encounter_codes_and_domains() -> None:
    assert frozenset({"AMB", "EMER", "FLD", "HH", "IMP", "ACUTE", "NONAC", "OBSENC", "PRENC", "SS", "VR"}) \
        == ENCOUNTER_CLASSES
    assert DOMAINS == ("encounter_class", "department", "discharge_disposition", "location_role")


def test_an_absent_file_gives_the_built_in_defaults_only(settings: Settings) -> None:
    code_map = load_code_map(settings)
    assert (code_map.fingerprint, code_map.path, code_map.entries) == ("", None, {})
    assert code_map.target("encounter_class", None, "vr") == "VR"
    assert code_map.target("encounter_class", None, "EW EMER.") is None
    assert code_map.target("discharge_disposition", "http://snomed.info/sct", "21541000119102") == "lwbs"
    assert code_map.target("discharge_disposition", "urn:local", "21541000119102") is None
    assert code_map.target("department", None, "emergency") == "emergency"
    assert code_map.target("department", None, "ED1") is None
    assert code_map.target("location_role", "https://journey.example/fhir/CodeSystem/location-role", "triage") \
        == "triage"
    assert code_map_vars(settings) == {"code_map_path": "", "code_map_fingerprint": ""}


def test_site_lines_map_by_system_then_any_system(settings: Settings) -> None:
    path = _write(settings, HEADER + "encounter_class,urn:research,EW EMER.,EMER,ED attendance\n"
                  "encounter_class,,ACUTE,ACUTE,\n"
                  "department,,ED1,emergency,\n"
                  "department,urn:svc,ED1,surgery,the same code in another system\n"
                  "discharge_disposition,urn:local,LWBS,lwbs,\n"
                  "location_role,,https://hospital.example/loc|WR-1,waiting-room,by identifier\n"
                  "\n")
    code_map = load_code_map(settings)
    assert code_map.target("encounter_class", "urn:research", "EW EMER.") == "EMER"
    assert code_map.target("encounter_class", "urn:other", "EW EMER.") is None
    assert code_map.target("department", "urn:x", "ED1") == "emergency"
    assert code_map.target("department", "urn:svc", "ED1") == "surgery"
    assert code_map.target("discharge_disposition", "urn:local", "LWBS") == "lwbs"
    assert code_map.target("location_role", None, "https://hospital.example/loc|WR-1") == "waiting-room"
    assert len(code_map.fingerprint) == 64
    assert code_map_vars(settings)["code_map_path"] == str(path)


@pytest.mark.parametrize(
    ("content", "line", "rule"),
    [
        ("domain,system,code,target\n", 1, "header"),
        (HEADER + "encounter_class,,EW,EMER,\nservice,,X,emergency,\n", 3, "domain"),
        (HEADER + "encounter_class,,EW,EMERGENCY,\n", 2, "target"),
        (HEADER + "department,,ED1,casualty,\n", 2, "target"),
        (HEADER + "discharge_disposition,,L,left,\n", 2, "target"),
        (HEADER + "location_role,,L1,lobby,\n", 2, "target"),
        (HEADER + "encounter_class,,,EMER,\n", 2, "source_code"),
        (HEADER + "encounter_class,,EW,EMER\n", 2, "field_count"),
        (HEADER + "department,,ED1,emergency,\nencounter_class,,ED1,EMER,\ndepartment,,ED1,surgery,\n", 4,
         "duplicate"),
    ],
)
def test_a_bad_line_names_the_file_line_and_rule(settings: Settings, content: str, line: int, rule: str) -> None:
    path = _write(settings, content)
    with pytest.raises(ConfigError) as raised:
        load_code_map(settings)
    assert f"{path}, line {line}" in str(raised.value)
    assert str(raised.value).endswith(f"rule: {rule}")


def test_the_same_mapping_twice_is_fine_and_a_bom_is_read(settings: Settings) -> None:
    _write(settings, ("\ufeff" + HEADER + "department,,ED1,emergency,a\ndepartment,,ED1,emergency,b\n").encode())
    assert load_code_map(settings).entries == {("department", "", "ED1"): "emergency"}


def test_a_file_not_in_utf8_is_refused(settings: Settings) -> None:
    path = _write(settings, (HEADER + "department,,急诊,emergency,\n").encode("gb18030"))
    with pytest.raises(ConfigError, match="rule: encoding") as raised:
        load_code_map(settings)
    assert str(path) in str(raised.value)


def test_a_changed_mapping_changes_the_staging_fingerprint(settings: Settings) -> None:
    from journey.transform.dbt import staging_fingerprint

    before = staging_fingerprint(settings)
    _write(settings, HEADER + "department,,ED1,emergency,\n")
    mapped = staging_fingerprint(settings)
    _write(settings, HEADER + "department,,ED1,surgery,\n")
    assert len({before, mapped, staging_fingerprint(settings)}) == 3
    assert staging_fingerprint(settings.model_copy(update={"department_sources": "location,serviceType"})) \
        != staging_fingerprint(settings)
