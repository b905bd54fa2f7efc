"""With defect_rate 0.05 every kind of fault appears, and every recorded fault is really there."""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from datetime import datetime
from pathlib import Path

from generate_helpers import CSV_HEADERS, DEPARTMENTS, TOUCH_CHANNELS, day_end, instant, local

from journey_demo import KINDS, GenerationReport

KNOWN = {
    "serviceType": DEPARTMENTS,
    "department": DEPARTMENTS,
    "class": {"AMB", "EMER", "IMP"},
    "extension": {"wechat", "web", "app", "phone", "walk-in", "referral"},
    "channel": TOUCH_CHANNELS,
    "action": {"impression", "click", "like", "comment", "share", "save", "booking"},
    "platform": {"dianping", "google", "haodf", "wechat"},
    "outcome": {"reached", "no_answer", "wrong_number", "declined", "not_attempted"},
    "category": {"waiting", "attitude", "communication", "billing", "environment", "clinical", "other"},
    "type": {
        "screening_day",
        "health_lecture",
        "livestream",
        "community_clinic",
        "search_ads",
        "social_post",
    },
}


def _faults(record: Path) -> list[dict]:
    return [json.loads(line) for line in (record / "defects.jsonl").read_text().splitlines()]


def _line(landing: Path, fault: dict) -> str:
    raw = (landing / fault["file"]).read_bytes().decode("utf-8")
    lines = raw.splitlines()
    return lines[fault["row"]] if fault["file"].endswith(".csv") else lines[fault["row"] - 1]


def _parse(fault: dict, line: str) -> dict:
    name = fault["file"].rsplit("/", 1)[-1]
    if name.endswith(".csv"):
        return dict(zip(CSV_HEADERS[name], next(csv.reader([line])), strict=True))
    return json.loads(line)


def _code(record: dict, field: str) -> str:
    value = record[field]
    if field == "serviceType":
        value = value["coding"][0]["code"] if isinstance(value, dict) else value[0]["coding"][0]["code"]
    elif field == "class":
        value = value["code"]
    elif field == "extension":
        value = value[0]["valueCode"]
    return str(value)


def _time(record: dict, field: str) -> datetime:
    if field == "meta.lastUpdated":
        return instant(record["meta"]["lastUpdated"])
    if field in ("period.end", "authored", "created", "end"):
        value = record["period"]["end"] if field == "period.end" else record[field]
        return instant(value)
    return local(record[field]) if "T" in record[field] else datetime.fromisoformat(record[field])


def _event_time(fault: dict, record: dict) -> datetime:
    if "resourceType" in record:
        return instant(record.get("authored") or record["meta"]["lastUpdated"])
    stamps = [v for k, v in record.items() if k.endswith(("_at", "ts")) and isinstance(v, str) and v]
    return max(local(s) for s in stamps)


def test_every_kind_of_fault_is_injected_and_counted(faulty: tuple[Path, Path, GenerationReport]) -> None:
    _, record, report = faulty
    faults = _faults(record)
    kinds = Counter(f["kind"] for f in faults)
    assert set(kinds) == set(KINDS)
    assert kinds == Counter(report.defects)
    assert kinds["encoding"] == 1
    share = (len(faults) - 1) / sum(report.rows.values())
    assert 0.035 <= share <= 0.065  # about defect_rate of the rows
    assert {f["source"] for f in faults} == {"ehr", "crm", "relations"}


def test_each_recorded_fault_is_really_there(faulty: tuple[Path, Path, GenerationReport]) -> None:
    landing, record, _ = faulty
    checked = Counter()
    for fault in _faults(record):
        kind, field = fault["kind"], fault["field"]
        folder = fault["file"].split("/")[1]
        if kind == "encoding":
            raw = (landing / fault["file"]).read_bytes()
            try:
                raw.decode("utf-8")
                raise AssertionError("GB18030 file decodes as UTF-8")
            except UnicodeDecodeError:
                pass
            text = raw.decode("gb18030")
            assert text.splitlines()[0].split(",") == CSV_HEADERS[fault["file"].rsplit("/", 1)[-1]]
            assert any("\u4e00" <= c <= "\u9fff" for c in text)
            checked[kind] += 1
            continue
        line = _line(landing, fault)
        if kind == "malformed":
            if fault["file"].endswith(".csv"):
                name = fault["file"].rsplit("/", 1)[-1]
                assert len(next(csv.reader([line]))) != len(CSV_HEADERS[name]), line
            else:
                try:
                    json.loads(line)
                    raise AssertionError(f"malformed line parses: {line}")
                except json.JSONDecodeError:
                    pass
            checked[kind] += 1
            continue
        data = _parse(fault, line)
        record_id = data.get("id") or next(iter(data.values()))
        assert record_id == fault["record_id"] or kind == "missing_required"
        if kind == "duplicate":
            previous = fault["detail"].removeprefix("exact copy of ").split(" row ")
            original = _line(landing, {"file": previous[0], "row": int(previous[1])})
            assert original == line
        elif kind == "missing_required":
            assert data.get(field) in (None, ""), (field, line)
        elif kind == "unknown_code":
            assert _code(data, field) not in KNOWN[field]
        elif kind == "future_timestamp":
            assert _time(data, field) > day_end(folder)
        elif kind == "out_of_order":
            if field == "statusHistory.triaged":
                history = {h["status"]: instant(h["period"]["start"]) for h in data["statusHistory"]}
                assert history["triaged"] < history["arrived"]
            elif field == "period.end":
                assert instant(data["period"]["end"]) < instant(data["period"]["start"])
            elif field == "created":
                assert instant(data["created"]) > instant(data["start"])
            elif field == "end":
                assert instant(data["end"]) < instant(data["start"])
            elif field == "completed_at":
                assert local(data["completed_at"]) < local(data["attempted_at"])
            elif field == "attempted_at":
                assert local(data["attempted_at"]) < local(data["planned_at"])
            elif field == "resolved_at":
                assert local(data["resolved_at"]) < local(data["received_at"])
            elif field == "end_date":
                assert data["end_date"] < data["start_date"]
            else:
                raise AssertionError(field)
        elif kind == "late":
            assert _event_time(fault, data).date() < datetime.fromisoformat(folder).date()
        checked[kind] += 1
    assert set(checked) == set(KINDS)
    assert sum(checked.values()) > 200


def test_faults_leave_the_other_rows_intact(faulty: tuple[Path, Path, GenerationReport]) -> None:
    landing, record, _ = faulty
    broken = {(f["file"], f["row"]) for f in _faults(record) if f["kind"] == "malformed"}
    parsed = 0
    for path in sorted(landing.rglob("*.ndjson")) + sorted(landing.rglob("*.jsonl")):
        rel = path.relative_to(landing).as_posix()
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if (rel, number) not in broken:
                json.loads(line)
                parsed += 1
    assert parsed > 10_000
    for path in sorted(landing.rglob("*.csv")):
        rel = path.relative_to(landing).as_posix()
        raw = path.read_bytes()
        text = raw.decode("utf-8") if raw.isascii() or _utf8(raw) else raw.decode("gb18030")
        rows = list(csv.reader(io.StringIO(text)))
        width = len(CSV_HEADERS[path.name])
        bad = {i for i, row in enumerate(rows[1:], 1) if len(row) != width}
        assert bad == {row for file, row in broken if file == rel}


def _utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True
