"""Metrics recomputed independently, in pandas, straight from the landing files of a generated
hospital, must equal the dbt marts: ED LWBS counts per day (LWBS only from a disposition or tracking
evidence), NPS per month of the visit × department, online-review volume and mean rating per
month × department, and every published door-to-provider percentile = round(quantile_cont(exact), 2).

The recomputation reads the NDJSON / JSONL files with the standard library and pandas only (no
DuckDB, no dbt macros), following the definitions in the model YAML.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from journey.config import Settings

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("small_hospital")]

MIN_CELL = 5
TZ = "Asia/Shanghai"
DEPARTMENTS = {"emergency", "internal_medicine", "surgery", "pediatrics", "obstetrics", "cardiology",
               "orthopedics", "dermatology", "ophthalmology", "oncology"}
LWBS_CODE = "21541000119102"


def _fhir(landing: Path, resource_type: str) -> list[dict[str, object]]:
    rows = []
    for path in sorted(landing.glob("ehr/*/*.ndjson")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                resource = json.loads(line)
                if resource["resourceType"] == resource_type:
                    rows.append(resource)
    return rows


def _utc(text: object) -> pd.Timestamp:
    if not text:
        return pd.NaT
    stamp = pd.Timestamp(str(text))
    return stamp.tz_convert("UTC") if stamp.tzinfo else stamp.tz_localize(TZ).tz_convert("UTC")


def _department(code: object) -> str:
    return code if isinstance(code, str) and code in DEPARTMENTS else "unknown"


def _latest(resources: list[dict[str, object]]) -> dict[str, dict[str, object]]:
    latest: dict[str, dict[str, object]] = {}
    for resource in resources:  # files are read in drop order: a later drop wins a tie
        key = str(resource["id"])
        updated = _utc((resource.get("meta") or {}).get("lastUpdated"))  # type: ignore[union-attr]
        kept = latest.get(key)
        kept_updated = _utc((kept.get("meta") or {}).get("lastUpdated")) if kept else pd.NaT  # type: ignore[union-attr]
        if kept is None or pd.isna(kept_updated) or (not pd.isna(updated) and updated >= kept_updated):
            latest[key] = resource
    return latest


def _encounters(landing: Path) -> pd.DataFrame:
    rows = []
    for encounter in _latest(_fhir(landing, "Encounter")).values():
        history = {h.get("status"): _utc(h.get("period", {}).get("start")) for h in encounter.get("statusHistory", [])}
        location_starts = [_utc(loc.get("period", {}).get("start")) for loc in encounter.get("location", [])]
        location_starts = [start for start in location_starts if not pd.isna(start)]
        first_location = min(location_starts, default=pd.NaT)
        arrived_candidates = [t for t in (history.get("arrived"), first_location) if not pd.isna(t)]
        arrived = min(arrived_candidates) if arrived_candidates else _utc(encounter.get("period", {}).get("start"))
        roles = [str(loc.get("location", {}).get("reference", "")).lower() for loc in encounter.get("location", [])]
        disposition = (encounter.get("hospitalization", {}).get("dischargeDisposition", {}).get("coding") or [{}])[0]
        status = encounter.get("status")
        seen = "in-progress" in history or any(k in role for role in roles for k in ("treat", "room", "bay"))
        # LWBS only from evidence: the disposition, else tracking (statusHistory or locations, every
        # generated location having a role); an ended ED encounter with neither is unknown (None)
        tracked = bool(encounter.get("statusHistory")) or bool(encounter.get("location"))
        lwbs: bool | None
        if status == "entered-in-error":
            lwbs = None
        elif disposition.get("code"):
            lwbs = disposition.get("code") == LWBS_CODE
        elif encounter["class"]["code"] == "EMER" and status in ("finished", "cancelled") and not seen:
            lwbs = True if tracked else None
        else:
            lwbs = False
        rows.append({
            "encounter_id": encounter["id"],
            "encounter_class": encounter["class"]["code"],
            "department_code": _department((encounter.get("serviceType", {}).get("coding") or [{}])[0].get("code")),
            "arrived_local": arrived.tz_convert(TZ) if not pd.isna(arrived) else pd.NaT,
            "is_lwbs": lwbs is True,
            "is_visit": status in ("arrived", "triaged", "in-progress", "onleave", "finished") or lwbs is True,
        })
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def marts(small_hospital: Settings) -> tuple[duckdb.DuckDBPyConnection, Path]:
    """The shared small hospital (tests/integration/conftest.py), built with min_cell_size MIN_CELL."""
    assert small_hospital.min_cell_size == MIN_CELL
    return duckdb.connect(str(small_hospital.work_path), read_only=True), small_hospital.landing_dir


def test_ed_lwbs_per_day_equals_the_landing_files(marts: tuple[duckdb.DuckDBPyConnection, Path]) -> None:
    conn, landing = marts
    encounters = _encounters(landing)
    ed = encounters[(encounters.encounter_class == "EMER") & encounters.is_visit & encounters.arrived_local.notna()]
    expected = ed.groupby(ed.arrived_local.dt.date).agg(encounters=("encounter_id", "size"),
                                                        lwbs=("is_lwbs", "sum"))
    actual = conn.execute(
        "select metric_date, sum(encounters), sum(lwbs_encounters) from marts.metrics_wait_daily "
        "where encounter_class = 'EMER' group by 1 order by 1"
    ).fetchall()
    assert expected["lwbs"].sum() > 0
    assert [(day, int(n), int(lwbs)) for day, n, lwbs in actual] == [
        (day, int(row.encounters), int(row.lwbs)) for day, row in expected.sort_index().iterrows()
    ]


def test_nps_per_month_and_department_equals_the_landing_files(
    marts: tuple[duckdb.DuckDBPyConnection, Path],
) -> None:
    conn, landing = marts
    encounters = _encounters(landing).set_index("encounter_id")
    responses = []
    for response in _latest(_fhir(landing, "QuestionnaireResponse")).values():
        encounter_id = str(response.get("encounter", {}).get("reference", "")).rsplit("/", 1)[-1]
        if response.get("status") not in ("completed", "amended") or encounter_id not in encounters.index:
            continue
        scores = [i["answer"][0].get("valueInteger") for i in response.get("item", []) if i.get("linkId") == "nps"]
        responses.append({"response_id": response["id"], "encounter_id": encounter_id,
                          "authored": _utc(response.get("authored")), "nps": scores[0] if scores else None})
    frame = pd.DataFrame(responses).sort_values(["encounter_id", "authored", "response_id"])
    primary = frame.drop_duplicates("encounter_id").join(encounters, on="encounter_id")
    primary = primary[primary.nps.between(0, 10)]
    primary["month"] = primary.arrived_local.dt.strftime("%Y-%m-01")
    cells = primary.groupby(["month", "department_code"]).nps.agg(
        scored="size", promoters=lambda s: (s >= 9).sum(), detractors=lambda s: (s <= 6).sum())
    expected = {
        (month, dept): (int(row.scored), round(100.0 * (row.promoters - row.detractors) / row.scored, 2)
                        if row.scored >= MIN_CELL else None)
        for (month, dept), row in cells.iterrows()
    }
    actual = {
        (str(month), dept): (scored, nps)
        for month, dept, scored, nps in conn.execute(
            "select month_start_date, department_code, nps_responses, nps from marts.metrics_satisfaction_monthly "
            "where nps_responses > 0"
        ).fetchall()
    }
    assert any(value[1] is not None for value in expected.values())
    assert actual == expected


def test_review_volume_and_rating_equal_the_landing_files(marts: tuple[duckdb.DuckDBPyConnection, Path]) -> None:
    conn, landing = marts
    reviews: dict[str, dict[str, object]] = {}
    for path in sorted(landing.glob("relations/*/reviews.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                review = json.loads(line)
                reviews[review["review_id"]] = review  # later drops win
    frame = pd.DataFrame(reviews.values())
    frame["month"] = frame.posted_at.map(lambda text: _utc(text).tz_convert(TZ).strftime("%Y-%m-01"))
    frame["department_code"] = frame.department.map(_department)
    cells = frame.groupby(["month", "department_code"]).rating.agg(["size", "sum"])
    expected = {
        (month, dept): (int(row["size"]), round(row["sum"] / row["size"], 2) if row["size"] >= MIN_CELL else None)
        for (month, dept), row in cells.iterrows()
    }
    actual = {
        (str(month), dept): (n, mean)
        for month, dept, n, mean in conn.execute(
            "select month_start_date, department_code, reviews, mean_review_rating from marts.metrics_loyalty_monthly "
            "where reviews > 0"
        ).fetchall()
    }
    assert sum(n for n, _ in expected.values()) > 0
    assert actual == expected


def test_every_door_to_provider_percentile_is_the_rounded_exact_quantile(
    marts: tuple[duckdb.DuckDBPyConnection, Path],
) -> None:
    """Percentiles over exact waits, rounded once: recomputed in pandas from the exact timestamps."""
    conn, _ = marts
    visits = conn.execute(
        "select arrived_local_date::varchar as arrived_local_date, department_code, "
        "coalesce(encounter_class, 'unmapped') as encounter_class, "  # an unmapped class has its own cell
        "date_diff('millisecond', arrived_at, provider_seen_at) / 60000.0 as wait "
        "from marts.fct_encounters where is_visit and is_lwbs is not true and door_to_provider_min is not null"
    ).fetchdf()
    cells = visits.groupby(["arrived_local_date", "department_code", "encounter_class"]).wait
    exact = {
        (str(day), dept, cls): (float(waits.quantile(0.5)), float(waits.quantile(0.9)))
        for (day, dept, cls), waits in cells if len(waits) >= MIN_CELL
    }
    published = {
        (str(day), dept, cls): (p50, p90)
        for day, dept, cls, p50, p90 in conn.execute(
            "select metric_date, department_code, encounter_class, door_to_provider_p50_min, door_to_provider_p90_min "
            "from marts.metrics_wait_daily where door_to_provider_n >= ?", [MIN_CELL]
        ).fetchall()
    }
    assert len(exact) > 20 and published.keys() == exact.keys()
    # rounded once to 2 decimals: within half a unit of the exact quantile (a percentile of per-visit
    # rounded waits, rounded again, can be a whole unit off)
    off = {key: (published[key], exact[key]) for key in exact
           if any(abs(p - e) > 0.005 + 1e-9 for p, e in zip(published[key], exact[key], strict=True))}
    assert not off
