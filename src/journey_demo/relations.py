"""Patient relations: post-discharge follow-up calls, complaints and public reviews (CSV / JSONL).

* Follow-ups: every ED and inpatient discharge gets calls planned 3, 7 and 30 days later; most are
  attempted on the day, some late; outcomes reached / no_answer / wrong_number / declined /
  not_attempted (about 75 % reached). A row lands on the day of its last timestamp.
* Complaints: likelier after long waits and LWBS (then mostly about waiting); first response mostly
  within 24 h, resolution days later, a few still open. A row lands on the day of its last timestamp.
* Reviews: a few patients post a 1-5 rating on dianping / google / haodf / wechat that follows their
  satisfaction, in Chinese or English.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from journey_demo import fmt, vocab
from journey_demo.encounters import encounter_ids
from journey_demo.fmt import Group
from journey_demo.frames import Frame
from journey_demo.model import (
    COMPLAINT_CATEGORIES,
    COMPLAINT_CHANNELS,
    DAY,
    DEPT_CODES,
    EMER,
    FOLLOW_UP_OUTCOMES,
    HOUR,
    IMP,
    MINUTE,
    REVIEW_PLATFORMS,
    categorical,
    lognormal,
)
from journey_demo.patients import PatientPool, patient_ids
from journey_demo.texts import EN, ZH, TextTable, band, contact_kinds, with_contact

FOLLOW_UP_DAYS = np.array([3, 7, 30])
NOT_ATTEMPTED = 4
REVIEW_SALT = 0x4E71E3
COMPLAINTS = TextTable(vocab.COMPLAINTS_ZH, vocab.COMPLAINTS_EN)
REVIEWS = TextTable(vocab.REVIEWS_ZH, vocab.REVIEWS_EN)
_NONE = -1
_OUTCOME = fmt.vocab(FOLLOW_UP_OUTCOMES)
_CATEGORY = fmt.vocab(COMPLAINT_CATEGORIES)
_CHANNEL = fmt.vocab(COMPLAINT_CHANNELS)
_PLATFORM = fmt.vocab(REVIEW_PLATFORMS)
_DEPT = fmt.vocab(DEPT_CODES)

FOLLOW_UP_HEADER = "follow_up_id,encounter_id,planned_day,planned_at,attempted_at,completed_at,outcome"
COMPLAINT_HEADER = (
    "complaint_id,patient_id,encounter_id,department,received_at,first_response_at,"
    "resolved_at,category,channel,description"
)


def follow_ups(encounters: Frame, rng: np.random.Generator) -> Frame:
    """Three planned calls per ED / inpatient discharge (ids assigned by the caller)."""
    rows = np.flatnonzero((encounters["cls"] == EMER) | (encounters["cls"] == IMP))
    rows = np.repeat(rows, len(FOLLOW_UP_DAYS))
    n = len(rows)
    planned_day = np.tile(FOLLOW_UP_DAYS, n // len(FOLLOW_UP_DAYS))
    planned = (encounters["departure"][rows] // DAY + planned_day) * DAY + rng.integers(
        9 * HOUR, 15 * HOUR, n
    )
    outcome = categorical(rng, [0.74, 0.11, 0.03, 0.04, 0.08], n)
    attempted_late = rng.random(n) < 0.15
    attempted = (
        planned + np.where(attempted_late, rng.integers(1, 5, n) * DAY, 0) + rng.integers(0, 3 * HOUR, n)
    )
    second_try = (outcome == 0) & (rng.random(n) < 0.2)
    completed = attempted + np.where(second_try, rng.integers(1, 3, n) * DAY, rng.integers(2, 20, n) * MINUTE)
    attempted = np.where(outcome == NOT_ATTEMPTED, _NONE, attempted)
    completed = np.where(outcome == 0, completed, _NONE)
    last = np.maximum.reduce([planned + np.where(outcome == NOT_ATTEMPTED, 2 * DAY, 0), attempted, completed])
    return Frame(
        {
            "enc": encounters["enc"][rows],
            "planned_day": planned_day,
            "planned": planned,
            "attempted": attempted,
            "completed": completed,
            "outcome": outcome,
            "lu": last,
        }
    )


def complaints(encounters: Frame, z: np.ndarray, pool: PatientPool, rng: np.random.Generator) -> Frame:
    """Complaints about some encounters: more after long waits and LWBS."""
    unhappy = np.maximum(-z, 0)
    p = 0.004 * np.exp(1.1 * unhappy) + 0.04 * encounters["lwbs"]
    rows = np.flatnonzero(rng.random(len(encounters)) < p)
    e = encounters.take(rows)
    n = len(rows)
    long_wait = (e["wait_min"] > 60) | e["lwbs"]
    category = np.where(
        long_wait & (rng.random(n) < 0.65), 0, categorical(rng, [0.1, 0.25, 0.2, 0.15, 0.12, 0.1, 0.08], n)
    )
    received = e["departure"] + (lognormal(rng, 20.0, 1.0, n).clip(0.2, 240) * HOUR).astype(np.int64)
    first = received + (lognormal(rng, 3.0, 1.1, n).clip(0.1, 120) * HOUR).astype(np.int64)
    resolved = first + (lognormal(rng, 3.0, 0.8, n).clip(0.2, 40) * DAY).astype(np.int64)
    resolved = np.where(rng.random(n) < 0.1, _NONE, resolved)
    english = pool["english"][e["patient"]] | (rng.random(n) < 0.1)
    lang = np.where(english, EN, ZH)
    email_ok = pool["email_kind"][e["patient"]] >= 0
    return Frame(
        {
            "patient": np.where(rng.random(n) < 0.1, _NONE, e["patient"]),
            "enc": np.where(rng.random(n) < 0.15, _NONE, e["enc"]),
            "dept": e["dept"],
            "received": received,
            "first": first,
            "resolved": resolved,
            "category": category,
            "channel": categorical(rng, [0.3, 0.3, 0.15, 0.2, 0.05], n),
            "text": COMPLAINTS.pick(lang, np.minimum(category, 6), rng),
            "lang": lang,
            "contact": contact_kinds(rng, n, 0.12, email_ok),
            "who": e["patient"],
            "lu": np.maximum(first, resolved),
        }
    )


def reviews(encounters: Frame, z: np.ndarray, pool: PatientPool, rng: np.random.Generator) -> Frame:
    """Public reviews by a few patients, rating following satisfaction."""
    p = 0.012 * (1 + np.abs(z))
    rows = np.flatnonzero(rng.random(len(encounters)) < p)
    e = encounters.take(rows)
    s = z[rows]
    n = len(rows)
    english = pool["english"][e["patient"]]
    platform = np.where(english & (rng.random(n) < 0.7), 1, categorical(rng, [0.38, 0.05, 0.32, 0.25], n))
    rating = np.clip(np.round(3.4 + 1.1 * s + 0.6 * rng.standard_normal(n)), 1, 5).astype(np.int64)
    lang = np.where(english | ((platform == 1) & (rng.random(n) < 0.6)), EN, ZH)
    picks_dept = (platform == 2) | ((platform == 0) & (rng.random(n) < 0.6))
    posted = e["departure"] + (lognormal(rng, 20.0, 1.0, n).clip(0.5, 300) * HOUR).astype(np.int64)
    email_ok = pool["email_kind"][e["patient"]] >= 0
    return Frame(
        {
            "platform": platform,
            "dept": np.where(picks_dept, e["dept"], _NONE),
            "rating": rating,
            "text": REVIEWS.pick(lang, band(rating - 3.0, -0.5, 0.5), rng),
            "lang": lang,
            "contact": contact_kinds(rng, n, 0.03, email_ok),
            "who": e["patient"],
            "posted": posted,
            "lu": posted,
        }
    )


# -- text -----------------------------------------------------------------------------------------


def _optional_ts(values: np.ndarray) -> fmt.Seg:
    return fmt.when(values >= 0, fmt.local_ts(np.maximum(values, 0)))


def encode_follow_ups(f: Frame) -> tuple[list[Group], pa.Array]:
    ids = fmt.digits(f["fu"], 10, "FU")
    groups: list[Group] = [
        ("follow_up_id", [ids]),
        ("_1", [","]),
        ("encounter_id", [encounter_ids(f["enc"])]),
        ("_2", [","]),
        ("planned_day", [fmt.int_str(f["planned_day"])]),
        ("_3", [","]),
        ("planned_at", [fmt.local_ts(f["planned"])]),
        ("_4", [","]),
        ("attempted_at", [_optional_ts(f["attempted"])]),
        ("_5", [","]),
        ("completed_at", [_optional_ts(f["completed"])]),
        ("_6", [","]),
        ("outcome", [fmt.take(_OUTCOME, f["outcome"])]),
    ]
    return groups, ids


def encode_complaints(f: Frame, pool: PatientPool) -> tuple[list[Group], pa.Array]:
    ids = fmt.digits(f["complaint"], 8, "CMPL")
    text = with_contact(COMPLAINTS.text(f["text"]), pool, f["who"], f["contact"], f["lang"])
    groups: list[Group] = [
        ("complaint_id", [ids]),
        ("_1", [","]),
        ("patient_id", [fmt.when(f["patient"] >= 0, patient_ids(np.maximum(f["patient"], 0)))]),
        ("_2", [","]),
        ("encounter_id", [fmt.when(f["enc"] >= 0, encounter_ids(np.maximum(f["enc"], 0)))]),
        ("_3", [","]),
        ("department", [fmt.take(_DEPT, f["dept"])]),
        ("_4", [","]),
        ("received_at", [fmt.local_ts(f["received"])]),
        ("_5", [","]),
        ("first_response_at", [fmt.local_ts(f["first"])]),
        ("_6", [","]),
        ("resolved_at", [_optional_ts(f["resolved"])]),
        ("_7", [","]),
        ("category", [fmt.take(_CATEGORY, f["category"])]),
        ("_8", [","]),
        ("channel", [fmt.take(_CHANNEL, f["channel"])]),
        ("_9", [","]),
        ("description", [fmt.csv_text(text)]),
    ]
    return groups, ids


def encode_reviews(f: Frame, pool: PatientPool) -> tuple[list[Group], pa.Array]:
    ids = fmt.hex_ids(f["review"], REVIEW_SALT, prefix="rv_", width=12)
    text = fmt.json_escape(with_contact(REVIEWS.text(f["text"]), pool, f["who"], f["contact"], f["lang"]))
    dept = f["dept"]
    groups: list[Group] = [
        ("review_id", ['{"review_id":"', ids, '"']),
        ("platform", [',"platform":"', fmt.take(_PLATFORM, f["platform"]), '"']),
        (
            "department",
            [
                ',"department":',
                fmt.when(dept >= 0, fmt.concat_text('"', fmt.take(_DEPT, np.maximum(dept, 0)), '"'), "null"),
            ],
        ),
        ("rating", [',"rating":', fmt.int_str(f["rating"])]),
        ("text", [',"text":"', text, '"']),
        ("posted_at", [',"posted_at":"', fmt.local_ts(f["posted"]), '"']),
        ("close", ["}"]),
    ]
    return groups, ids
