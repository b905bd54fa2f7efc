"""The demo hospital behaves like one: bounds below are reasoned by hand from how hospitals run."""

from __future__ import annotations

import re
import statistics
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta

import numpy as np
from generate_helpers import LWBS, Run, instant, latest_appointments, local, timeline

from journey_demo import relations, surveys
from journey_demo.frames import Frame
from journey_demo.patients import PatientPool


def _encounters(run: Run) -> list[dict]:
    return [r.data for r in run.landing.fhir["Encounter"]]


def test_emergency_is_the_busiest_department_and_classes_fit(clean: Run) -> None:
    encounters = _encounters(clean)
    by_dept = Counter(e["serviceType"]["coding"][0]["code"] for e in encounters)
    assert by_dept.most_common(1)[0][0] == "emergency"
    assert by_dept["emergency"] > 1.5 * by_dept["internal_medicine"]  # 300 vs 135+~12 a day at scale 1
    assert 70 <= len(encounters) / 28 <= 130  # scale 0.1 of ~1,000 a day
    classes: dict[str, set[str]] = defaultdict(set)
    for e in encounters:
        classes[e["class"]["code"]].add(e["serviceType"]["coding"][0]["code"])
    assert classes["EMER"] == {"emergency"}
    assert classes["IMP"] == {"surgery", "internal_medicine", "obstetrics", "oncology"}
    assert "emergency" not in classes["AMB"] and len(classes["AMB"]) == 9
    stays = [
        instant(e["period"]["end"]) - instant(e["period"]["start"])
        for e in encounters
        if e["class"]["code"] == "IMP"
    ]
    assert min(stays) > timedelta(hours=12)
    assert timedelta(days=2) <= statistics.median(stays) <= timedelta(days=8)


def test_departments_see_the_right_patients(clean: Run) -> None:
    patients = {r.data["id"]: r.data for r in clean.landing.fhir["Patient"]}
    for e in _encounters(clean):
        dept = e["serviceType"]["coding"][0]["code"]
        patient = patients[e["subject"]["reference"].removeprefix("Patient/")]
        age = (instant(e["period"]["start"]).date() - date.fromisoformat(patient["birthDate"])).days / 365.25
        if dept == "pediatrics":
            assert age < 16
        if dept == "obstetrics":
            assert patient["gender"] in {"female", "unknown", "other"} and 14 < age < 51


def test_weekly_pattern(clean: Run) -> None:
    weekday = Counter(
        instant(e["period"]["start"]).weekday() for e in _encounters(clean) if e["class"]["code"] == "AMB"
    )
    assert weekday[0] > 3 * weekday[6]  # Monday clinics are full, Sunday only pediatrics / medicine
    assert weekday[0] > weekday[4] > weekday[5]


def _ed_waits(run: Run) -> dict[str, float]:
    waits = {}
    for e in _encounters(run):
        t = timeline(e)
        if e["class"]["code"] == "EMER" and "provider" in t:
            waits[e["id"]] = (t["provider"] - t["arrival"]).total_seconds() / 60
    return waits


def test_waits_are_log_normal_ish_and_nps_falls_with_the_wait(clean: Run) -> None:
    waits = _ed_waits(clean)
    values = sorted(waits.values())
    median = statistics.median(values)
    assert 20 <= median <= 90
    assert values[int(0.9 * len(values))] > 2 * median  # a long right tail
    pairs = []
    for row in clean.landing.fhir["QuestionnaireResponse"]:
        encounter = row.data["encounter"]["reference"].removeprefix("Encounter/")
        nps = [i["answer"][0]["valueInteger"] for i in row.data.get("item", []) if i["linkId"] == "nps"]
        if encounter in waits and nps:
            pairs.append((waits[encounter], nps[0]))
    pairs.sort()
    quarter = len(pairs) // 4
    assert quarter >= 25
    short = statistics.mean(n for _, n in pairs[:quarter])
    long = statistics.mean(n for _, n in pairs[-quarter:])
    assert short - long >= 1.0, (short, long)


def test_ratings_and_hcahps_items_move_together(clean: Run) -> None:
    by_answer: dict[str, list[int]] = defaultdict(list)
    overall_by_nps: dict[bool, list[int]] = defaultdict(list)
    for row in clean.landing.fhir["QuestionnaireResponse"]:
        items = {i["linkId"]: i["answer"][0] for i in row.data.get("item", [])}
        if "nps" in items and "doctor_communication" in items:
            by_answer[items["doctor_communication"]["valueCoding"]["code"]].append(
                items["nps"]["valueInteger"]
            )
        if "nps" in items and "overall" in items:
            overall_by_nps[items["nps"]["valueInteger"] >= 9].append(items["overall"]["valueInteger"])
    means = [statistics.mean(by_answer[a]) for a in ("never", "sometimes", "usually", "always")]
    assert means == sorted(means) and means[-1] - means[0] > 3
    assert statistics.mean(overall_by_nps[True]) - statistics.mean(overall_by_nps[False]) > 1.5


def test_crowding_makes_waits_longer(clean: Run) -> None:
    waits = _ed_waits(clean)
    arrivals = sorted((timeline(e)["arrival"], e["id"]) for e in _encounters(clean) if e["id"] in waits)
    times = np.array([a.timestamp() for a, _ in arrivals])
    load = np.searchsorted(times, times, "right") - np.searchsorted(times, times - 3 * 3600)
    wait = np.array([waits[i] for _, i in arrivals])
    busy, quiet = wait[load >= np.quantile(load, 0.75)], wait[load <= np.quantile(load, 0.25)]
    assert np.median(busy) > 1.2 * np.median(quiet)


def test_outpatient_bookings_no_shows_and_cancellations(clean: Run) -> None:
    final = latest_appointments(clean.landing)
    status = Counter(a["status"] for a in final.values())
    assert status["fulfilled"] > 1000
    no_show = status["noshow"] / (status["noshow"] + status["fulfilled"])
    assert 0.05 <= no_show <= 0.20
    cancelled = [a for a in final.values() if a["status"] == "cancelled"]
    assert 0.03 <= len(cancelled) / len(final) <= 0.2
    late = [
        a for a in cancelled if instant(a["start"]) - instant(a["meta"]["lastUpdated"]) < timedelta(hours=24)
    ]
    assert 0.1 <= len(late) / len(cancelled) <= 0.7
    assert {c["cancelationReason"]["coding"][0]["code"] for c in cancelled} == {"pat", "prov", "other"}
    leads = [(instant(a["start"]) - instant(a["created"])).days for a in final.values()]
    assert statistics.median(leads) >= 2 and max(leads) >= 21  # booked days to weeks ahead
    walk_ins = [a for a in final.values() if a["extension"][0]["valueCode"] == "walk-in"]
    assert walk_ins and all(
        instant(a["start"]) - instant(a["created"]) < timedelta(hours=2) for a in walk_ins
    )


def test_slot_snapshots_agree_with_bookings(clean: Run) -> None:
    for day in sorted({r.folder for r in clean.landing.fhir["Slot"]})[3:28:8]:
        end = datetime.fromisoformat(day) + timedelta(days=1)
        window = end + timedelta(days=56)
        held = {
            a["slot"][0]["reference"].removeprefix("Slot/")
            for a in latest_appointments(clean.landing, until=day).values()
            if a["status"] == "booked" and end <= instant(a["start"]) < window
        }
        snapshot = [r.data for r in clean.landing.fhir["Slot"] if r.folder == day]
        busy = {s["id"] for s in snapshot if s["status"] == "busy"}
        assert held == busy
        assert all(end <= instant(s["start"]) < window for s in snapshot)
        assert Counter(s["status"] for s in snapshot)["free"] > 0


def test_ed_timestamp_styles_and_lwbs(clean: Run) -> None:
    ed = [e for e in _encounters(clean) if e["class"]["code"] == "EMER"]
    styles = Counter(("statusHistory" in e, "location" in e) for e in ed)
    share = {k: v / len(ed) for k, v in styles.items()}
    assert abs(share[(True, True)] - 0.60) < 0.07
    assert abs(share[(True, False)] - 0.25) < 0.06
    assert abs(share[(False, True)] - 0.10) < 0.04
    assert abs(share[(False, False)] - 0.05) < 0.03
    lwbs = [
        e
        for e in ed
        if e.get("hospitalization", {}).get("dischargeDisposition", {}).get("coding", [{}])[0].get("code")
        == LWBS
    ]
    assert 0.01 <= len(lwbs) / len(ed) <= 0.06
    for e in lwbs:
        assert "in-progress" not in {h["status"] for h in e.get("statusHistory", [])}
        assert not any("bay" in loc["location"]["reference"] for loc in e.get("location", []))


def test_surveys(clean: Run) -> None:
    encounters = {e["id"]: e for e in _encounters(clean)}
    responses = [r.data for r in clean.landing.fhir["QuestionnaireResponse"]]
    answered = [q for q in responses if q["encounter"]["reference"].removeprefix("Encounter/") in encounters]
    assert 0.15 <= len(responses) / len(encounters) <= 0.35
    for q in answered:
        departure = instant(
            encounters[q["encounter"]["reference"].removeprefix("Encounter/")]["period"]["end"]
        )
        assert 1 <= (instant(q["authored"]).date() - departure.date()).days <= 10
    items = Counter(i["linkId"] for q in responses for i in q.get("item", []))
    assert items["nps"] < len(responses)  # some leave it unanswered
    assert items["quietness"] < items["doctor_communication"]  # outpatients are not asked about nights
    answers = Counter(
        i["answer"][0]["valueCoding"]["code"]
        for q in responses
        for i in q.get("item", [])
        if "valueCoding" in i["answer"][0]
    )
    assert set(answers) == {"never", "sometimes", "usually", "always"}
    comments = [
        i["answer"][0]["valueString"]
        for q in responses
        for i in q.get("item", [])
        if i["linkId"] == "comment"
    ]
    assert any(re.search(r"[\u4e00-\u9fff]", c) for c in comments)
    assert any(re.fullmatch(r"[ -~]+", c) for c in comments)  # English
    assert any(re.search(r"1[3-9]\d{9}|@", c) for c in comments)  # contact details to scrub


def test_follow_ups_complaints_reviews(clean: Run) -> None:
    follow_ups = [r.data for r in clean.landing.tables["follow_ups.csv"]]
    outcome = Counter(f["outcome"] for f in follow_ups)
    assert 0.65 <= outcome["reached"] / len(follow_ups) <= 0.9
    late = [
        f
        for f in follow_ups
        if f["attempted_at"] and local(f["attempted_at"]).date() > local(f["planned_at"]).date()
    ]
    assert 0.05 <= len(late) / len(follow_ups) <= 0.3
    complaints = [r.data for r in clean.landing.tables["complaints.csv"]]
    assert len(complaints) >= 10
    response_hours = [
        (local(c["first_response_at"]) - local(c["received_at"])).total_seconds() / 3600 for c in complaints
    ]
    assert statistics.median(response_hours) < 24
    reviews = [r.data for r in clean.landing.tables["reviews.jsonl"]]
    assert len(reviews) >= 10 and {r["rating"] for r in reviews} >= {1, 5}


def test_touch_funnel_and_campaign_attribution(clean: Run) -> None:
    touches = [r.data for r in clean.landing.tables["touches.jsonl"]]
    actions = Counter(t["action"] for t in touches)
    assert actions["impression"] > 5 * actions["click"]
    assert actions["click"] > max(actions[a] for a in ("like", "comment", "share", "save"))
    assert min(actions[a] for a in ("like", "comment", "share", "save")) > actions["booking"] > 0
    assert 5 <= len(touches) / len(_encounters(clean)) <= 20
    shares = [t for t in touches if t["action"] == "share"]
    assert sum(t["patient_id"] is not None for t in shares) > 0.5 * len(shares)
    # new patients acquired by a campaign: anonymous touches, then a booking touch that links the patient
    first_visit: dict[str, datetime] = {}
    for e in _encounters(clean):
        patient = e["subject"]["reference"].removeprefix("Patient/")
        first_visit[patient] = min(first_visit.get(patient, datetime.max), instant(e["period"]["start"]))
    by_anonymous: dict[str, list[dict]] = defaultdict(list)
    for t in touches:
        by_anonymous[t["anonymous_id"]].append(t)
    attributed = set()
    for t in touches:
        if t["action"] == "booking" and t["campaign_id"] and t["patient_id"] in first_visit:
            before = [
                x
                for x in by_anonymous[t["anonymous_id"]]
                if x["patient_id"] is None and x["campaign_id"] == t["campaign_id"] and x["ts"] < t["ts"]
            ]
            if before and local(t["ts"]) <= first_visit[t["patient_id"]]:
                attributed.add(t["patient_id"])
    assert len(attributed) >= 5


def test_satisfaction_falls_with_the_wait_and_drives_complaints_and_returns() -> None:
    n = 20_000
    rng = np.random.default_rng(0)
    short = Frame(
        {
            "cls": np.ones(n, np.int64),
            "dept": np.zeros(n, np.int64),
            "wait_min": np.full(n, 15.0),
            "lwbs": np.zeros(n, bool),
        }
    )
    long = Frame({**short.cols, "wait_min": np.full(n, 240.0)})
    z_short, z_long = surveys.satisfaction(short, rng), surveys.satisfaction(long, rng)
    assert z_short.mean() - z_long.mean() > 1.0
    pool = PatientPool(seed=1)
    pool.create(np.full(2 * n, 2, np.int8), 19_000, rng, seen=True)
    for frame in (short, long):
        frame["patient"] = np.arange(n) if frame is short else np.arange(n, 2 * n)
        frame["enc"] = frame["patient"]
        frame["departure"] = np.full(n, 19_000 * 86_400 + 36_000)
    few = len(relations.complaints(short, z_short, pool, rng))
    many = relations.complaints(long, z_long, pool, rng)
    assert len(many) > 2 * few
    assert (many["category"] == 0).mean() > 0.5  # mostly about waiting
    before = pool["weight"].copy()
    pool.record_visits(np.arange(2 * n), np.concatenate([np.ones(n), -np.ones(n)]))
    assert (pool["weight"][:n] > before[:n]).all() and (pool["weight"][n:] < before[n:]).all()
