"""Reading a generated landing back for tests: every file parsed the plain, slow, obvious way."""

from __future__ import annotations

import csv
import io
import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

from journey_demo import GenerationReport

START = date(2024, 1, 8)  # a Monday in the winter peak
CSV_HEADERS = {
    "campaigns.csv": [
        "campaign_id",
        "name",
        "type",
        "channel",
        "department",
        "start_date",
        "end_date",
        "budget",
    ],
    "follow_ups.csv": [
        "follow_up_id",
        "encounter_id",
        "planned_day",
        "planned_at",
        "attempted_at",
        "completed_at",
        "outcome",
    ],
    "complaints.csv": [
        "complaint_id",
        "patient_id",
        "encounter_id",
        "department",
        "received_at",
        "first_response_at",
        "resolved_at",
        "category",
        "channel",
        "description",
    ],
}
JSONL_FIELDS = {
    "touches.jsonl": {"touch_id", "ts", "anonymous_id", "patient_id", "channel", "campaign_id", "action"},
    "reviews.jsonl": {"review_id", "platform", "department", "rating", "text", "posted_at"},
}
DEPARTMENTS = {
    "emergency",
    "internal_medicine",
    "surgery",
    "pediatrics",
    "obstetrics",
    "cardiology",
    "orthopedics",
    "dermatology",
    "ophthalmology",
    "oncology",
}
TOUCH_CHANNELS = {"wechat", "web", "app", "search", "referral", "phone", "community_event", "walk-in"}
BOOKING_CHANNELS = {"wechat", "web", "app", "phone", "walk-in", "referral"}
LWBS = "21541000119102"


def instant(value: str) -> datetime:
    """A FHIR instant as naive hospital local time (every offset here is +08:00)."""
    assert value.endswith("+08:00"), value
    return datetime.fromisoformat(value[:-6])


def local(value: str) -> datetime:
    return datetime.fromisoformat(value)


def day_end(folder: str) -> datetime:
    return datetime.fromisoformat(folder) + timedelta(days=1) - timedelta(seconds=1)


@dataclass
class Row:
    """One landed record: where it is and what it says."""

    folder: str  # the drop date
    path: str  # relative to the landing root
    number: int  # 1-based line (NDJSON/JSONL) or data row (CSV)
    data: dict


@dataclass
class Landing:
    root: Path
    fhir: dict[str, list[Row]] = field(default_factory=lambda: defaultdict(list))
    tables: dict[str, list[Row]] = field(default_factory=lambda: defaultdict(list))
    files: list[Path] = field(default_factory=list)

    @property
    def folders(self) -> list[str]:
        return sorted({p.parent.name for p in self.files})

    def ids(self, resource_type: str) -> set[str]:
        return {r.data["id"] for r in self.fhir[resource_type]}


def load(root: Path) -> Landing:
    """Parse every landed file strictly (raises on any malformed line)."""
    landing = Landing(root)
    for path in sorted(root.rglob("*")):
        if not path.is_file():
            continue
        landing.files.append(path)
        rel = path.relative_to(root).as_posix()
        folder = path.parent.name
        text = path.read_bytes().decode("utf-8")
        if path.suffix == ".ndjson":
            for i, line in enumerate(text.splitlines(), 1):
                data = json.loads(line)
                landing.fhir[data["resourceType"]].append(Row(folder, rel, i, data))
        elif path.suffix == ".jsonl":
            for i, line in enumerate(text.splitlines(), 1):
                data = json.loads(line)
                assert set(data) == JSONL_FIELDS[path.name], (rel, i, sorted(data))
                landing.tables[path.name].append(Row(folder, rel, i, data))
        else:
            reader = csv.reader(io.StringIO(text))
            header = next(reader)
            assert header == CSV_HEADERS[path.name], (rel, header)
            for i, values in enumerate(reader, 1):
                assert len(values) == len(header), (rel, i, values)
                landing.tables[path.name].append(Row(folder, rel, i, dict(zip(header, values, strict=True))))
    return landing


def timeline(encounter: dict) -> dict[str, datetime]:
    """arrival / triage / provider / departure as the contract derives them (None-free keys only)."""
    out: dict[str, datetime] = {}
    history = {h["status"]: instant(h["period"]["start"]) for h in encounter.get("statusHistory", [])}
    locations = encounter.get("location", [])
    starts = [instant(loc["period"]["start"]) for loc in locations]
    if "arrived" in history or starts:
        out["arrival"] = min(([history["arrived"]] if "arrived" in history else []) + starts)
    elif "period" in encounter:
        out["arrival"] = instant(encounter["period"]["start"])
    if "triaged" in history:
        out["triage"] = history["triaged"]
    else:
        triage = [
            instant(loc["period"]["start"]) for loc in locations if "triag" in loc["location"]["reference"]
        ]
        if triage:
            out["triage"] = triage[0]
    if "in-progress" in history:
        out["provider"] = history["in-progress"]
    else:
        bays = [instant(loc["period"]["start"]) for loc in locations if "bay" in loc["location"]["reference"]]
        if bays:
            out["provider"] = bays[0]
    if "finished" in history:
        out["departure"] = history["finished"]
    elif locations:
        out["departure"] = instant(locations[-1]["period"]["end"])
    elif "period" in encounter:
        out["departure"] = instant(encounter["period"]["end"])
    return out


def latest_appointments(landing: Landing, until: str | None = None) -> dict[str, dict]:
    """Latest state per Appointment id (by meta.lastUpdated), optionally only drops up to ``until``."""
    latest: dict[str, dict] = {}
    for row in landing.fhir["Appointment"]:
        if until is not None and row.folder > until:
            continue
        current = latest.get(row.data["id"])
        if current is None or row.data["meta"]["lastUpdated"] >= current["meta"]["lastUpdated"]:
            latest[row.data["id"]] = row.data
    return latest


def first_day(folders: list[str]) -> date:
    return date.fromisoformat(folders[0])


@dataclass
class Run:
    """A generated landing: where it is, what the generator reported, and the parsed records."""

    landing_dir: Path
    record_dir: Path
    report: GenerationReport
    landing: Landing
