"""`journey profile` on the hand-written FHIR R4 fixtures (tests/fixtures/fhir_r4/README.md): lines,
coverage, codes mapped or not, implausible dates, non-resource lines and computable metrics, each
number counted by hand from the fixture lines; the JSON shape; the nightly record; and that no
identifier of the fixtures reaches any output."""

from __future__ import annotations

import gzip
import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from journey.cli import app
from journey.config import Settings
from journey.profile import Profile, landing_files, profile_files, profile_landing, record_profile, render

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "fhir_r4"
NOW = datetime(2026, 3, 4, tzinfo=UTC)  # the fixtures' "today": Patient pat-b81d02 is born in the future
SECRETS = (  # every identifier, name and free text of the fixtures
    "pat-7f3a9c", "pat-b81d02", "pat-d0a4e7", "pat-c55e10", "pat-a19c", "pat-a27d", "pat-a31f", "pat-a42b",
    "enc-e1", "enc-e2", "enc-e3", "enc-e4", "enc-e5", "enc-e6", "appt-q", "loc-9f3", "TR-01", "D-7731",
    "Wang", "Xiuying", "Zhaomingyue", "Hangzhouvillage", "110101192706012345", "13812345678", "Lotus",
    "Dongcheng", "Li Na", "dr-card-1",
)


def _profile(name: str, settings: Settings) -> Profile:
    return profile_landing(FIXTURES / name, settings, now=NOW)


def _code(profile: Profile, resource: str, element: str, code: str | None) -> tuple[int, bool | None, str | None]:
    item = profile.resource(resource)
    assert item is not None
    found = [c for c in item.codes if c.element == element and c.code == code]
    assert len(found) == 1, (element, code, item.codes)
    return found[0].count, found[0].mapped, found[0].target


def _elements(profile: Profile, resource: str) -> dict[str, tuple[int, int, float]]:
    item = profile.resource(resource)
    assert item is not None
    return {e.name: (e.present, e.total, e.pct) for e in item.elements}


def _metric(profile: Profile, name: str) -> tuple[str, float | None]:
    metric = profile.metric(name)
    return metric.status, metric.coverage_pct


def _with_code_map(settings: Settings) -> Settings:
    (settings.root / "mapping").mkdir(parents=True, exist_ok=True)
    shutil.copy(FIXTURES / "code_map.csv", settings.root / "mapping" / "code_map.csv")
    return settings


def test_ehr_only_lines_coverage_and_dates(settings: Settings) -> None:
    profile = _profile("ehr_only", settings)
    encounter = profile.resource("Encounter")
    assert encounter is not None
    assert (encounter.files, encounter.lines, encounter.first, encounter.last) == (2, 6, "2026-03-02", "2026-03-02")
    elements = _elements(profile, "Encounter")
    assert elements["period.start"] == (6, 6, 100.0)
    assert elements["period.end"] == (5, 6, 83.3)  # enc-e6 has only a start
    assert elements["statusHistory"] == (0, 6, 0.0)
    assert elements["location[].period"] == (1, 6, 16.7)  # enc-e5
    assert elements["serviceType"] == (1, 6, 16.7)
    assert elements["hospitalization.dischargeDisposition"] == (1, 6, 16.7)
    assert elements["appointment"] == (0, 6, 0.0)
    patient = _elements(profile, "Patient")
    assert patient["birthDate"] == (2, 3, 66.7)
    assert patient["address.district|city"] == (1, 3, 33.3)
    assert {item.resource for item in profile.resources} == {"Encounter", "Patient", "Location"}
    assert profile.non_resource == {"export_log": 2, "OperationOutcome": 1}


def test_ehr_only_codes_native_mapping(settings: Settings) -> None:
    profile = _profile("ehr_only", settings)
    assert _code(profile, "Encounter", "class.code", "EMER") == (2, True, "EMER")
    for code in ("HH", "VR", "ACUTE"):
        assert _code(profile, "Encounter", "class.code", code) == (1, True, code)
    assert _code(profile, "Encounter", "class.code", "EW EMER.") == (1, False, None)
    assert _code(profile, "Encounter", "serviceType", "ED-LOCAL") == (1, False, None)
    assert _code(profile, "Encounter", "hospitalization.dischargeDisposition", "21541000119102") == (1, True, "lwbs")
    assert _code(profile, "Encounter", "location[].period", "unresolved") == (1, False, None)
    # a conditional serviceProvider names no Organization id: no department code is invented from it
    assert not [c for c in profile.resource("Encounter").codes if c.element == "serviceProvider"]  # type: ignore[union-attr]


def test_ehr_only_anomalies(settings: Settings) -> None:
    anomalies = {a.rule: a.count for a in _profile("ehr_only", settings).anomalies}
    assert anomalies == {
        "encounter_end_before_start": 1,  # enc-e3-virtual
        "future_dated": 1,  # pat-b81d02 born 2026-03-05 > NOW + 60 min
        "birth_after_first_visit": 1,  # pat-b81d02, first visit 2026-03-02
        "conditional_reference": 3,  # enc-e5: Location, Practitioner, Organization
        "extension:patient-mothersMaidenName": 1,
        "extension:patient-birthPlace": 1,
    }


def test_ehr_only_metrics_say_what_cannot_be_computed(settings: Settings) -> None:
    profile = _profile("ehr_only", settings)
    assert _metric(profile, "encounter_volume") == ("partial", 83.3)  # EW EMER. unmapped
    assert _metric(profile, "department_breakdown") == ("no_data", 0.0)
    assert _metric(profile, "ed_door_to_provider") == ("no_data", 0.0)  # e1, e6: only period
    assert _metric(profile, "ed_door_to_triage") == ("no_data", 0.0)
    assert _metric(profile, "ed_lwbs") == ("partial", 50.0)  # e6's disposition; e1 has no evidence
    assert _metric(profile, "ed_length_of_stay") == ("partial", 50.0)
    assert _metric(profile, "inpatient_length_of_stay") == ("computable", 100.0)  # ACUTE
    assert _metric(profile, "age_band") == ("partial", 83.3)  # e6's patient is not in the export
    for name in ("nps", "overall_top_box_pct", "response_rate", "no_show_rate", "booking_lead_time",
                 "third_next_available", "follow_up_on_time_rate", "complaint_response_24h_rate",
                 "review_rating", "campaign_funnel"):
        assert _metric(profile, name) == ("no_data", None), name
    assert "QuestionnaireResponse" in profile.metric("response_rate").reason
    assert "treatment-room" in profile.metric("ed_door_to_provider").reason


def test_site_code_map_maps_local_codes(settings: Settings) -> None:
    profile = _profile("ehr_only", _with_code_map(settings))
    assert _code(profile, "Encounter", "class.code", "EW EMER.") == (1, True, "EMER")
    assert _code(profile, "Encounter", "serviceType", "ED-LOCAL") == (1, True, "emergency")
    assert _code(profile, "Encounter", "location[].period", "treatment-room") == (1, True, "treatment-room")
    assert _metric(profile, "encounter_volume") == ("computable", 100.0)
    assert _metric(profile, "department_breakdown") == ("partial", 16.7)
    assert _metric(profile, "ed_door_to_provider") == ("partial", 33.3)  # e5 of e1, e5, e6
    assert _metric(profile, "ed_lwbs") == ("partial", 66.7)  # e5 seen, e6 disposition


def test_appointments_only(settings: Settings) -> None:
    profile = _profile("appointments_only", settings)
    assert [item.resource for item in profile.resources] == ["Appointment"]
    elements = _elements(profile, "Appointment")
    assert elements["created"] == (3, 4, 75.0)
    assert elements["cancelationReason"] == (1, 4, 25.0)
    assert elements["participant.actor(Patient)"] == (4, 4, 100.0)
    assert _code(profile, "Appointment", "serviceType", "cardiology") == (3, True, "cardiology")
    assert _code(profile, "Appointment", "serviceType", "CARD-LOCAL") == (1, False, None)
    assert _code(profile, "Appointment", "status", "noshow") == (1, None, None)
    assert _metric(profile, "no_show_rate") == ("computable", 100.0)
    assert _metric(profile, "late_cancel_rate") == ("computable", 100.0)
    assert _metric(profile, "booking_lead_time") == ("partial", 75.0)
    for name in ("encounter_volume", "ed_door_to_provider", "ed_lwbs", "nps", "response_rate"):
        assert _metric(profile, name)[0] == "no_data", name


def test_gzip_and_bulk_names_are_read(settings: Settings, tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    shutil.copytree(FIXTURES / "ehr_only", landing)
    day = landing / "ehr" / "2026-03-02"
    plain = day / "Encounter.000.ndjson"
    (day / "Encounter.000.ndjson.gz").write_bytes(gzip.compress(plain.read_bytes()))
    plain.unlink()
    (day / "notes.txt").write_text("not part of the contract\n", encoding="utf-8")
    profile = profile_landing(landing, settings, now=NOW)
    encounter = profile.resource("Encounter")
    assert encounter is not None and (encounter.files, encounter.lines) == (2, 6)
    assert profile.ignored_files == 1


def test_json_shape_and_no_identifier_in_any_output(settings: Settings) -> None:
    runner = CliRunner()
    for name in ("ehr_only", "appointments_only"):
        as_json = runner.invoke(app, ["profile", str(FIXTURES / name), "--json"])
        assert as_json.exit_code == 0, as_json.output
        data = json.loads(as_json.stdout)
        assert set(data) == {"root", "files", "resources", "non_resource", "anomalies", "metrics", "ignored_files"}
        resource = data["resources"][0]
        assert set(resource) == {"source", "resource", "files", "lines", "first", "last", "elements", "codes"}
        assert set(resource["elements"][0]) == {"name", "present", "total", "pct"}
        assert set(resource["codes"][0]) == {"domain", "element", "system", "code", "count", "target", "mappable",
                                            "mapped"}
        assert set(data["metrics"][0]) == {"metric", "status", "coverage_pct", "reason"}
        text = runner.invoke(app, ["profile", str(FIXTURES / name)])
        assert text.exit_code == 0 and "metrics:" in text.stdout
        for output in (as_json.stdout, text.stdout, render(_profile(name, settings))):
            leaked = [secret for secret in SECRETS if secret in output]
            assert not leaked, leaked


def test_cli_exit_codes(settings: Settings, tmp_path: Path) -> None:
    runner = CliRunner()
    missing = runner.invoke(app, ["profile", str(tmp_path / "nope")])
    assert missing.exit_code == 2  # bad usage: not a folder
    (tmp_path / "empty").mkdir()
    empty = runner.invoke(app, ["profile", str(tmp_path / "empty")])
    assert empty.exit_code == 1 and "No landed file" in empty.output
    (settings.root / "mapping").mkdir(parents=True)
    (settings.root / "mapping" / "code_map.csv").write_text(
        "domain,source_system,source_code,target_code,comment\nencounter_class,,X,NOPE,\n", encoding="utf-8")
    bad_map = runner.invoke(app, ["profile", str(FIXTURES / "ehr_only")])
    assert bad_map.exit_code == 2 and "code_map.csv" in bad_map.output


def test_record_profile_writes_ops_landing_profile(settings: Settings, tmp_path: Path) -> None:
    profile = profile_files(landing_files(FIXTURES / "ehr_only"), settings, now=NOW)
    conn = duckdb.connect(str(tmp_path / "work.duckdb"))
    try:
        written = record_profile(conn, "run-1", profile)
        assert record_profile(conn, "run-1", profile) == written  # a rerun replaces the run's rows
        rows = conn.execute("select count(*) from ops.landing_profile where run_id = 'run-1'").fetchone()
        assert rows == (written,)
        lines = conn.execute("select count from ops.landing_profile where kind = 'lines' "
                             "and resource = 'Encounter'").fetchall()
        assert lines == [(6,)]
        metric = conn.execute("select status, pct from ops.landing_profile where kind = 'metric' "
                              "and name = 'ed_door_to_provider'").fetchall()
        assert metric == [("no_data", 0.0)]
        everything = " ".join(str(value) for row in conn.execute("select * from ops.landing_profile").fetchall()
                              for value in row)
        assert not [secret for secret in SECRETS if secret in everything]
    finally:
        conn.close()


@pytest.mark.parametrize("name", ["ehr_only", "appointments_only"])
def test_profile_text_names_every_metric(settings: Settings, name: str) -> None:
    text = render(_profile(name, settings))
    for metric in ("ed_door_to_provider", "ed_lwbs", "nps", "no_show_rate", "campaign_funnel"):
        assert metric in text


def test_record_night_profiles_and_records(settings: Settings, tmp_path: Path) -> None:
    from journey.profile import record_night

    conn = duckdb.connect(str(tmp_path / "work.duckdb"))
    try:
        profile = record_night(conn, "night-1", landing_files(FIXTURES / "appointments_only"), settings, now=NOW)
        assert profile.metric("no_show_rate").status == "computable"
        row = conn.execute("select count, total from ops.landing_profile where run_id = 'night-1' "
                           "and kind = 'element' and name = 'created'").fetchall()
        assert row == [(3, 4)]
        stamp = conn.execute("select distinct recorded_at from ops.landing_profile").fetchall()
        assert stamp == [(NOW.replace(tzinfo=None),)]
    finally:
        conn.close()
