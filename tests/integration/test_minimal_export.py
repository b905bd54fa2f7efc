"""A bulk-export-shaped hospital end to end: `journey generate --profile minimal` (EHR NDJSON only,
encounters with only `period`, conditional references, HH / VR / ACUTE / a local class, Patient
extensions, an export log), a site code map for the local class, `journey profile`, then the real
nightly flow (Prefect → DuckDB raw → GX → dbt build → publish).

What issue #20's "Done when" asks of such an export: the profile says beforehand what will be
computed; every encounter reaches the marts; a wait or rate whose evidence the export lacks is NULL
(never 0, never invented), and a KPI whose source never delivered is `no_data` (never off_track).
Expected values are counted here from the landed files with the standard library.

"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from journey.cli import app
from journey.config import Settings
from journey.errors import JourneyError
from journey_demo.minimal import LOCAL_CLASS_CODE, LOCAL_CLASS_SYSTEM

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("prefect")]

START, DAYS = date(2026, 3, 2), 4
LAST = START + timedelta(days=DAYS - 1)
SURVEY_KPIS = ("nps", "overall_top_box_pct", "response_rate")
RELATIONS_KPIS = ("follow_up_day3_on_time_rate", "follow_up_day7_on_time_rate", "follow_up_day30_on_time_rate",
                  "complaint_response_24h_rate", "complaint_resolution_7wd_rate")


@dataclass
class Night:
    settings: Settings
    profile: dict[str, object]
    result: dict[str, object] | None
    error: Exception | None
    encounters: dict[str, str]  # encounter id -> class code, as landed
    maiden_names: set[str]
    locations: dict[str, list[str]]  # encounter id -> the identifier values of its locations (no periods)


def _landed(landing: Path) -> tuple[dict[str, str], set[str], dict[str, list[str]]]:
    encounters: dict[str, str] = {}
    maiden: set[str] = set()
    locations: dict[str, list[str]] = {}
    for path in sorted(landing.glob("ehr/*/*.ndjson")):
        for line in path.read_text(encoding="utf-8").splitlines():
            resource = json.loads(line)
            if resource.get("resourceType") == "Encounter":
                encounters[resource["id"]] = resource["class"]["code"]
                locations[resource["id"]] = [entry["location"]["reference"].rsplit("|", 1)[-1]
                                             for entry in resource.get("location", [])]
            if resource.get("resourceType") == "Patient":
                maiden |= {ext["valueString"] for ext in resource.get("extension", [])
                           if ext["url"].endswith("patient-mothersMaidenName")}
    return encounters, maiden, locations


@pytest.fixture(scope="module")
def night(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Night]:
    root = tmp_path_factory.mktemp("minimal_export")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("JOURNEY_DATA_DIR", str(root / "data"))
        patch.setenv("JOURNEY_SECRET", "test-secret-not-for-production")
        patch.setenv("JOURNEY_LANDING_RETENTION_DAYS", "0")
        patch.setenv("JOURNEY_MIN_CELL_SIZE", "5")  # a small hospital: cells of 5 are published
        runner = CliRunner()
        generated = runner.invoke(app, ["generate", "--profile", "minimal", "--days", str(DAYS), "--scale", "0.05",
                                        "--start", START.isoformat(), "--seed", "5"])
        assert generated.exit_code == 0, generated.output
        settings = Settings()
        # The site maps its local class code (data/README.md, mapping/code_map.csv), not the export.
        (settings.root / "mapping").mkdir(parents=True, exist_ok=True)
        (settings.root / "mapping" / "code_map.csv").write_text(
            "domain,source_system,source_code,target_code,comment\n"
            f"encounter_class,{LOCAL_CLASS_SYSTEM},{LOCAL_CLASS_CODE},EMER,the ED's local class\n",
            encoding="utf-8")
        profiled = runner.invoke(app, ["profile", str(settings.landing_dir), "--json"])
        assert profiled.exit_code == 0, profiled.output
        encounters, maiden, locations = _landed(settings.landing_dir)
        from flows.nightly import nightly

        result: dict[str, object] | None = None
        error: Exception | None = None
        try:
            result = nightly(run_date=LAST, docs=False)
        except JourneyError as failure:  # judged by the tests below, not here
            error = failure
        yield Night(settings, json.loads(profiled.stdout), result, error, encounters, maiden, locations)


def _one(conn: duckdb.DuckDBPyConnection, sql: str) -> object:
    row = conn.execute(sql).fetchone()
    assert row is not None
    return row[0]


@pytest.fixture
def warehouse(night: Night) -> Iterator[duckdb.DuckDBPyConnection]:
    assert night.error is None, f"the night failed: {night.error}"
    conn = duckdb.connect(str(night.settings.warehouse_path), read_only=True)
    try:
        yield conn
    finally:
        conn.close()


def _metric(night: Night, name: str) -> dict[str, object]:
    metrics = night.profile["metrics"]
    assert isinstance(metrics, list)
    return next(metric for metric in metrics if metric["metric"] == name)


def test_profile_says_beforehand_what_will_be_computed(night: Night) -> None:
    classes = Counter(night.encounters.values())
    assert {"EMER", "AMB", "HH", "VR", LOCAL_CLASS_CODE} <= set(classes), classes
    encounter = next(r for r in night.profile["resources"] if r["resource"] == "Encounter")  # type: ignore[union-attr]
    assert encounter["lines"] == len(night.encounters)  # each encounter lands once (on its departure day)
    coverage = {element["name"]: element["pct"] for element in encounter["elements"]}
    assert coverage["period.start"] == 100.0
    assert coverage["statusHistory"] == 0.0 and coverage["location[].period"] == 0.0
    assert coverage["hospitalization.dischargeDisposition"] == 0.0
    local = [c for c in encounter["codes"] if c["code"] == LOCAL_CLASS_CODE]
    assert [(c["count"], c["mapped"], c["target"]) for c in local] == [(classes[LOCAL_CLASS_CODE], True, "EMER")]
    assert _metric(night, "encounter_volume")["status"] == "computable"  # every class known or mapped
    for name in ("ed_door_to_triage", "ed_door_to_provider", "ed_lwbs"):
        assert (_metric(night, name)["status"], _metric(night, name)["coverage_pct"]) == ("no_data", 0.0), name
    assert _metric(night, "ed_length_of_stay")["status"] == "computable"
    for name in ("nps", "overall_top_box_pct", "response_rate", "follow_up_on_time_rate",
                 "complaint_response_24h_rate", "campaign_funnel"):
        assert _metric(night, name)["status"] == "no_data", name
    assert _metric(night, "no_show_rate")["status"] == "computable"
    assert night.profile["non_resource"] == {"export_log": 2 * DAYS}
    anomalies = {a["rule"]: a["count"] for a in night.profile["anomalies"]}  # type: ignore[union-attr]
    assert anomalies["extension:patient-mothersMaidenName"] > 0 and anomalies["conditional_reference"] > 0


def test_night_loads_every_line_and_publishes(night: Night, warehouse: duckdb.DuckDBPyConnection) -> None:
    # every landed Encounter line is traced: in raw, or quarantined with its rule (none silently dropped)
    traced = _one(warehouse, "select (select count(*) from raw.ehr_encounter) + (select count(*) from "
                             "quarantine.rows where _source_file like '%/Encounter.%')")
    assert traced == len(night.encounters)
    assert _one(warehouse, "select count(*) from raw.load_manifest where rows_read <> rows_loaded + "
                           "rows_quarantined") == 0
    assert _one(warehouse, "select count(*) from marts.fct_encounters where encounter_class = 'EMER'") > 0
    # period-only ED encounters: no door-to-provider or triage is derived from absent evidence
    assert _one(warehouse, "select count(*) from marts.fct_encounters where encounter_class = 'EMER' "
                           "and (door_to_provider_min is not null or door_to_triage_min is not null)") == 0
    # the scheduling metrics are published from the Appointments
    assert _one(warehouse, "select count(no_show_rate) from marts.metrics_wait_daily") > 0


def test_night_is_green_and_records_the_profile(night: Night, warehouse: duckdb.DuckDBPyConnection) -> None:
    assert night.result is not None and night.result["status"] == "succeeded"
    assert night.result["rows_quarantined"] == 0  # log.ndjson lines are not errors
    assert _one(warehouse, "select count(*) from quarantine.rows") == 0
    assert _one(warehouse, "select count(*) from ops.landing_profile where kind = 'metric' "
                           "and name = 'ed_door_to_provider' and status = 'no_data'") == 1


def test_every_encounter_reaches_the_marts(night: Night, warehouse: duckdb.DuckDBPyConnection) -> None:
    assert _one(warehouse, "select count(*) from raw.ehr_encounter") == len(night.encounters)
    assert _one(warehouse, "select count(*) from marts.fct_encounters") == len(night.encounters)
    expected = Counter("EMER" if code == LOCAL_CLASS_CODE else code for code in night.encounters.values())
    got = dict(warehouse.execute("select encounter_class, count(*) from marts.fct_encounters group by all").fetchall())
    assert got == dict(expected)
    patients = str(_one(warehouse, "select string_agg(resource::varchar, ' ') from raw.ehr_patient"))
    assert "mothersMaidenName" not in patients
    assert not [name for name in night.maiden_names if f'"{name}"' in patients]


def test_absent_evidence_is_null_and_absent_sources_no_data(
    night: Night, warehouse: duckdb.DuckDBPyConnection
) -> None:
    # No disposition and no statusHistory; locations listed without periods (the generator names them
    # ed-waiting-*, ed-triage-*, ed-bay-*). A bay (treatment room) listed: seen, not LWBS. Only waiting
    # and triage listed: tracked and never seen, LWBS. No location at all: LWBS cannot be told (NULL).
    def expected(places: list[str]) -> bool | None:
        if any(place.startswith("ed-bay") for place in places):
            return False
        return True if places else None

    ed = [encounter for encounter, code in night.encounters.items() if code in ("EMER", LOCAL_CLASS_CODE)]
    want = Counter(expected(night.locations[encounter]) for encounter in ed)
    got = Counter(dict(warehouse.execute("select is_lwbs, count(*) from marts.fct_encounters "
                                         "where encounter_class = 'EMER' group by all").fetchall()))
    assert want[None] > 0 and want[False] > 0 and got == want
    assert _one(warehouse, "select count(*) from marts.fct_encounters where encounter_class = 'EMER' and "
                           "is_lwbs is null and lwbs_reason <> 'no_disposition_or_tracking'") == 0
    ed_rows = "from marts.metrics_wait_daily where encounter_class = 'EMER' and not suppressed"
    assert _one(warehouse, f"select count(*) {ed_rows}") > 0
    # no time of triage or provider anywhere: no wait, no target share
    assert _one(warehouse, f"select count(*) {ed_rows} and (door_to_provider_p50_min "
                           "is not null or door_to_provider_p90_min is not null or door_to_triage_p50_min is not "
                           "null or pct_seen_within_target is not null)") == 0
    kpis = warehouse.execute(
        "select kpi_code, kpi_status, count(*), count(kpi_value) from marts.metrics_kpi_status "
        "where kpi_code in ({}) group by all".format(", ".join(f"'{k}'" for k in (*SURVEY_KPIS, *RELATIONS_KPIS,
                                                                                  "ed_door_to_provider_p90_min")))
    ).fetchall()
    assert kpis, "every KPI has a row (no_data), not no row"
    assert {(code, status) for code, status, _, _ in kpis if status != "no_data"} == set()
    assert sum(values for *_, values in kpis) == 0  # no value (0.0) published for an absent source
