"""The pandas baseline: journey's core metrics in plain pandas, as a team without journey would write them.

Reads the landing files (FHIR NDJSON) with ``pd.read_json(lines=True)``, unnests statusHistory and
location with ``explode`` + ``json_normalize``, and computes the same three tables as bench/floor.sql:
waits per local day × department × class, survey NPS / top box per month × department, and the 30-day
return rate per month × department. Definitions mirror the dbt models (see floor.sql's header).

    python bench/pandas_baseline.py LANDING_DIR OUT_DIR    # writes OUT_DIR/<table>.parquet
"""

from __future__ import annotations

import argparse
import glob
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

TIMEZONE = "Asia/Shanghai"
MIN_CELL = 11
LWBS = "21541000119102"
DEPARTMENTS = frozenset({
    "emergency", "internal_medicine", "surgery", "pediatrics", "obstetrics",
    "cardiology", "orthopedics", "dermatology", "ophthalmology", "oncology",
})
ROLE_CODES = frozenset({"waiting-room", "triage", "treatment-room"})
ROLE_SYSTEM = "https://journey.example/fhir/CodeSystem/location-role"
VISIT_STATUSES = frozenset({"arrived", "triaged", "in-progress", "onleave", "finished"})


def read_ndjson(landing: Path, resource_type: str) -> pd.DataFrame:
    """Every ``ehr/<day>/<Type>*.ndjson`` file, with its file name."""
    frames = []
    for path in sorted(glob.glob(str(landing / "ehr" / "*" / f"{resource_type}*.ndjson"))):
        frame = pd.read_json(path, lines=True, dtype=False)
        if not frame.empty:
            frames.append(frame.assign(filename=path))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["id", "meta", "filename"])


def to_utc(values: pd.Series) -> pd.Series:
    return pd.to_datetime(values, utc=True, errors="coerce", format="ISO8601")


def local_date(values: pd.Series) -> pd.Series:
    return values.dt.tz_convert(TIMEZONE).dt.tz_localize(None).dt.floor("D")


def round_half_away(values: pd.Series, digits: int) -> pd.Series:
    """SQL round(): halves away from zero (numpy/pandas round halves to even)."""
    factor = 10.0**digits
    return np.trunc(values * factor + np.copysign(0.5, values)) / factor


def get(values: pd.Series, *keys: str | int) -> pd.Series:
    """A nested field of dict/list cells (missing → None), e.g. get(col, "coding", 0, "code")."""
    result = values
    for key in keys:
        result = result.map(lambda cell, key=key: _item(cell, key))
    return result


def _item(cell: Any, key: str | int) -> Any:
    if isinstance(cell, dict):
        return cell.get(key)
    if isinstance(cell, list) and isinstance(key, int):
        return cell[key] if -len(cell) <= key < len(cell) else None
    return None


def latest_versions(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per id: latest meta.lastUpdated, then the later file."""
    meta = frame["meta"] if "meta" in frame else pd.Series([None] * len(frame), index=frame.index)
    frame = frame[frame["id"].notna()].assign(_updated=to_utc(get(meta, "lastUpdated")))
    frame = frame.sort_values(["_updated", "filename"], ascending=False, na_position="last")
    return frame.drop_duplicates("id").reset_index(drop=True)


def clean(values: pd.Series) -> pd.Series:
    stripped = values.where(values.map(lambda cell: isinstance(cell, str))).str.strip()
    return stripped.where(stripped != "")


def reference_id(values: pd.Series, resource_type: str) -> pd.Series:
    extracted = values.astype("string").str.extract(rf"(?:^|/){resource_type}/([^/]+)", expand=False)
    return extracted.where(extracted != "")


def elements(frame: pd.DataFrame, column: str) -> pd.DataFrame:
    """One row per element of a list column, its fields flattened (``period.start`` …)."""
    if column not in frame:
        return pd.DataFrame(columns=["encounter_id"])
    exploded = frame[["encounter_id", column]].explode(column, ignore_index=True)
    exploded = exploded[exploded[column].map(lambda cell: isinstance(cell, dict))].reset_index(drop=True)
    flat = pd.json_normalize(exploded[column].tolist())
    flat.insert(0, "encounter_id", exploded["encounter_id"].to_numpy())
    return flat


def location_roles(landing: Path) -> pd.Series:
    locations = latest_versions(read_ndjson(landing, "Location"))
    if locations.empty:
        return pd.Series(dtype="object")

    def role(types: Any) -> str | None:
        for concept in types if isinstance(types, list) else []:
            for coding in concept.get("coding", []) if isinstance(concept, dict) else []:
                if coding.get("system") == ROLE_SYSTEM and coding.get("code"):
                    return str(coding["code"]).lower()
        return None

    column = locations["type"] if "type" in locations else pd.Series([None] * len(locations))
    return pd.Series(column.map(role).to_numpy(), index=locations["id"].to_numpy())


def status_times(encounters: pd.DataFrame) -> pd.DataFrame:
    history = elements(encounters, "statusHistory")
    if history.empty:
        return pd.DataFrame(index=pd.Index([], name="encounter_id"))
    history["status"] = history["status"].str.lower()
    history["start"] = to_utc(clean(history.get("period.start", pd.Series(dtype="object"))))
    wanted = {"arrived": "arrived_status_at", "in-progress": "in_progress_status_at", "finished": "finished_status_at"}
    pivot = (history[history["status"].isin(wanted)]
             .groupby(["encounter_id", "status"])["start"].min().unstack("status"))
    return pivot.reindex(columns=list(wanted)).rename(columns=wanted)


def location_times(encounters: pd.DataFrame, roles: pd.Series) -> pd.DataFrame:
    places = elements(encounters, "location")
    if places.empty:
        return pd.DataFrame(index=pd.Index([], name="encounter_id"))
    places["start"] = to_utc(clean(places.get("period.start", pd.Series(dtype="object"))))
    places["end"] = to_utc(clean(places.get("period.end", pd.Series(dtype="object"))))
    location_id = reference_id(places["location.reference"], "Location")
    label = (location_id.fillna("") + " " + clean(places.get("location.display", pd.Series(dtype="object"))).fillna(""))
    label = label.str.strip().str.lower()
    code = location_id.map(roles)
    role = np.select(
        [code.isin(ROLE_CODES), label.str.contains("wait"), label.str.contains("triag"),
         label.str.contains("treat|room|bay", regex=True)],
        [code, "waiting-room", "triage", "treatment-room"], None,
    )
    places["treatment_start"] = places["start"].where(role == "treatment-room")
    grouped = places.groupby("encounter_id")
    last = places.sort_values("start", na_position="first").groupby("encounter_id")["end"].last()
    return pd.DataFrame({
        "first_location_start_at": grouped["start"].min(),
        "treatment_location_start_at": grouped["treatment_start"].min(),
        "last_location_end_at": last,
    })


def encounter_waits(landing: Path) -> pd.DataFrame:
    """One row per encounter: arrival, provider seen, departure, waits, LWBS and is_visit."""
    raw = latest_versions(read_ndjson(landing, "Encounter"))
    frame = pd.DataFrame({
        "encounter_id": raw["id"],
        "patient_key": reference_id(get(raw["subject"], "reference"), "Patient"),
        "encounter_status": get(raw["status"]).str.lower(),
        "encounter_class": get(raw["class"], "code").str.upper(),
        "department_code": clean(get(raw["serviceType"], "coding", 0, "code")),
        "disposition": clean(get(raw["hospitalization"], "dischargeDisposition", "coding", 0, "code")),
        "period_start_at": to_utc(clean(get(raw["period"], "start"))),
        "period_end_at": to_utc(clean(get(raw["period"], "end"))),
    })
    nested = raw[["id"] + [c for c in ("statusHistory", "location") if c in raw]].rename(columns={"id": "encounter_id"})
    frame = frame.join(status_times(nested), on="encounter_id").join(
        location_times(nested, location_roles(landing)), on="encounter_id")
    for column in ("arrived_status_at", "in_progress_status_at", "finished_status_at", "first_location_start_at",
                   "treatment_location_start_at", "last_location_end_at"):
        if column not in frame:
            frame[column] = pd.NaT
    status_first = frame["arrived_status_at"].notna() & (
        frame["first_location_start_at"].isna() | (frame["arrived_status_at"] <= frame["first_location_start_at"]))
    frame["arrived_at"] = frame["arrived_status_at"].where(
        status_first, frame["first_location_start_at"].fillna(frame["period_start_at"]))
    frame["provider_seen_at"] = frame["in_progress_status_at"].fillna(frame["treatment_location_start_at"])
    frame["departed_at"] = (frame["finished_status_at"].fillna(frame["last_location_end_at"])
                            .fillna(frame["period_end_at"]))
    frame["department_code"] = frame["department_code"].where(frame["department_code"].isin(DEPARTMENTS), "unknown")
    implicit_lwbs = (frame["disposition"].isna() & (frame["encounter_class"] == "EMER")
                     & frame["encounter_status"].isin(["finished", "cancelled"]) & frame["provider_seen_at"].isna())
    frame["is_lwbs"] = (frame["disposition"] == LWBS) | implicit_lwbs
    frame["is_visit"] = frame["encounter_status"].isin(VISIT_STATUSES) | frame["is_lwbs"]
    frame["arrived_local_date"] = local_date(frame["arrived_at"])
    frame["door_to_provider_min"] = round_half_away(
        (frame["provider_seen_at"] - frame["arrived_at"]).dt.total_seconds() / 60.0, 2)
    frame["length_of_stay_hours"] = round_half_away(
        (frame["departed_at"] - frame["arrived_at"]).dt.total_seconds() / 3600.0, 3)
    return frame


def suppress(values: pd.Series, counts: pd.Series) -> pd.Series:
    return values.where(counts >= MIN_CELL)


def wait_daily(waits: pd.DataFrame) -> pd.DataFrame:
    visits = waits[waits["is_visit"] & waits["arrived_local_date"].notna()].copy()
    visits["d2p"] = visits["door_to_provider_min"].where(~visits["is_lwbs"])
    keys = ["arrived_local_date", "department_code", "encounter_class"]
    grouped = visits.groupby(keys)
    out = pd.DataFrame({
        "encounters": grouped.size(),
        "d2p_n": grouped["d2p"].count(),
        "d2p_p50": grouped["d2p"].quantile(0.5),
        "d2p_p90": grouped["d2p"].quantile(0.9),
        "los_n": grouped["length_of_stay_hours"].count(),
        "los_p50": grouped["length_of_stay_hours"].quantile(0.5),
        "los_p90": grouped["length_of_stay_hours"].quantile(0.9),
        "lwbs_encounters": grouped["is_lwbs"].sum(),
    })
    return pd.DataFrame({
        "encounters": out["encounters"],
        "door_to_provider_p50_min": round_half_away(suppress(out["d2p_p50"], out["d2p_n"]), 2),
        "door_to_provider_p90_min": round_half_away(suppress(out["d2p_p90"], out["d2p_n"]), 2),
        "los_p50_hours": round_half_away(suppress(out["los_p50"], out["los_n"]), 3),
        "los_p90_hours": round_half_away(suppress(out["los_p90"], out["los_n"]), 3),
        "lwbs_encounters": out["lwbs_encounters"],
        "lwbs_rate": suppress(out["lwbs_encounters"] / out["encounters"], out["encounters"]),
    }).reset_index().rename(columns={"arrived_local_date": "metric_date"})


def answer(items: Any, link_id: str) -> Any:
    """``item[linkId=<link_id>].answer[0].valueInteger`` of one response."""
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict) and item.get("linkId") == link_id:
            answers = item.get("answer") or [{}]
            return answers[0].get("valueInteger")
    return None


def satisfaction_monthly(landing: Path, waits: pd.DataFrame) -> pd.DataFrame:
    raw = latest_versions(read_ndjson(landing, "QuestionnaireResponse"))
    if raw.empty:
        return pd.DataFrame(columns=["month_start_date", "department_code", "responses", "nps", "overall_top_box_pct"])
    items = raw["item"] if "item" in raw else pd.Series([None] * len(raw))
    responses = pd.DataFrame({
        "response_id": raw["id"],
        "is_completed": raw["status"].str.lower().isin(["completed", "amended"]),
        "encounter_id": reference_id(get(raw["encounter"], "reference"), "Encounter"),
        "authored_at": to_utc(clean(raw["authored"])),
        "nps_score": pd.to_numeric(items.map(lambda cell: answer(cell, "nps")), errors="coerce"),
        "overall_rating": pd.to_numeric(items.map(lambda cell: answer(cell, "overall")), errors="coerce"),
    })
    for column in ("nps_score", "overall_rating"):
        responses[column] = responses[column].where(responses[column].between(0, 10))
    primary = (responses[responses["is_completed"] & responses["encounter_id"].notna()]
               .sort_values(["authored_at", "response_id"], na_position="last")
               .drop_duplicates("encounter_id"))
    primary = primary.merge(waits[["encounter_id", "department_code", "arrived_local_date"]], on="encounter_id",
                            how="left")
    primary["department_code"] = primary["department_code"].fillna("unknown")
    visit_day = primary["arrived_local_date"].fillna(local_date(primary["authored_at"]))
    primary["month_start_date"] = visit_day.dt.to_period("M").dt.start_time
    primary = primary[primary["month_start_date"].notna()]
    primary["promoter"] = primary["nps_score"] >= 9
    primary["detractor"] = primary["nps_score"] <= 6
    primary["top_box"] = primary["overall_rating"] >= 9
    grouped = primary.groupby(["month_start_date", "department_code"])
    out = pd.DataFrame({
        "responses": grouped.size(),
        "nps_n": grouped["nps_score"].count(),
        "promoters": grouped["promoter"].sum(),
        "detractors": grouped["detractor"].sum(),
        "overall_n": grouped["overall_rating"].count(),
        "top_box": grouped["top_box"].sum(),
    })
    nps = 100.0 * (out["promoters"] - out["detractors"]) / out["nps_n"]
    top_box = 100.0 * out["top_box"] / out["overall_n"]
    return pd.DataFrame({
        "responses": out["responses"],
        "nps": round_half_away(suppress(nps, out["nps_n"]), 2),
        "overall_top_box_pct": round_half_away(suppress(top_box, out["overall_n"]), 2),
    }).reset_index()


def return_monthly(waits: pd.DataFrame) -> pd.DataFrame:
    visits = waits[waits["is_visit"] & waits["patient_key"].notna() & waits["arrived_at"].notna()].copy()
    visits["visit_ended_at"] = visits["departed_at"].fillna(visits["arrived_at"])
    visits["next_after"] = visits[["visit_ended_at", "arrived_at"]].max(axis=1)
    later = visits[["patient_key", "arrived_at"]].rename(columns={"arrived_at": "next_arrived_at"})
    matched = pd.merge_asof(
        visits.sort_values("next_after"), later.sort_values("next_arrived_at"),
        left_on="next_after", right_on="next_arrived_at", by="patient_key",
        direction="forward", allow_exact_matches=False,
    )
    window = pd.Timedelta(days=30)
    matched["closed"] = matched["visit_ended_at"] + window <= visits["arrived_at"].max()
    matched["returned"] = matched["closed"] & (matched["next_arrived_at"] <= matched["visit_ended_at"] + window)
    matched["month_start_date"] = local_date(matched["visit_ended_at"]).dt.to_period("M").dt.start_time
    grouped = matched.groupby(["month_start_date", "department_code"])
    out = pd.DataFrame({"return_30d_n": grouped["closed"].sum(), "returns_30d": grouped["returned"].sum()})
    out["return_rate_30d"] = suppress(out["returns_30d"] / out["return_30d_n"], out["return_30d_n"])
    return out.reset_index()


def compute(landing: Path) -> dict[str, pd.DataFrame]:
    waits = encounter_waits(landing)
    return {
        "wait_daily": wait_daily(waits),
        "satisfaction_monthly": satisfaction_monthly(landing, waits),
        "return_monthly": return_monthly(waits),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("landing", type=Path)
    parser.add_argument("out", type=Path)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for name, table in compute(args.landing).items():
        table.to_parquet(args.out / f"{name}.parquet", index=False)


if __name__ == "__main__":
    main()
