"""Marketing / CRM: campaigns with budgets and the digital touches around them.

Campaigns are planned per calendar month from their own random stream (screening days, lectures,
livestreams, community clinics, search ads, social posts), announced 1-4 weeks ahead; the first drop
lists every campaign known by then, later drops only newly announced ones and budget revisions (upsert
by ``campaign_id``). Touches follow a funnel (impression ≫ click > like / comment / share / save >
booking) from anonymous ids; known patients' touches carry their EHR id, shares mostly come from known
patients, and new patients acquired by a campaign leave impressions and a click under their anonymous
id before the tracked booking that links it to their patient id: campaign attribution has something
to find.
"""

from __future__ import annotations

import calendar
from datetime import date

import numpy as np
import pyarrow as pa

from journey_demo import fmt, vocab
from journey_demo.fmt import Group
from journey_demo.frames import Frame
from journey_demo.model import (
    ACTIONS,
    CAMPAIGN_TYPES,
    DAY,
    DEPARTMENTS,
    DEPT_CODES,
    EPOCH,
    MINUTE,
    TOUCH_BY_HOUR,
    TOUCH_CHANNELS,
    categorical,
    ed_volume,
    epoch_day,
    hour_times,
    lognormal,
    opd_demand,
    stream,
)
from journey_demo.patients import patient_ids

TOUCHES_PER_ENCOUNTER = 10.0
TOUCH_SALT = 0x70C4
ANON_SALT = 0xA11011
STRANGER_BASE = 1 << 40
CAMPAIGN_HEADER = "campaign_id,name,type,channel,department,start_date,end_date,budget"
# Touch channels: wechat, web, app, search, referral, phone, community_event, walk-in.
WECHAT, WEB, APP, SEARCH, COMMUNITY = 0, 1, 2, 3, 6
BOOKING_TO_TOUCH_CHANNEL = np.array([WECHAT, WEB, APP, 5, 4, 7])
_ORGANIC_CHANNELS = np.array([WECHAT, WEB, APP, SEARCH])
_EVENT_TYPES = np.array([True, True, True, True, False, False])  # promoted for a week before
IMPRESSION, CLICK, LIKE, COMMENT, SHARE, SAVE, BOOKING = range(7)
_ENGAGEMENT_RATE = {LIKE: 0.03, COMMENT: 0.015, SHARE: 0.015, SAVE: 0.02}
_IMPRESSION_SHARE = 0.84
_CLICK_SHARE = 0.10
_TYPE = fmt.vocab(CAMPAIGN_TYPES)
_CHANNEL = fmt.vocab(TOUCH_CHANNELS)
_ACTION = fmt.vocab(ACTIONS)
_DEPT = fmt.vocab(("",) + DEPT_CODES)
_NAME_ZH = fmt.vocab(vocab.CAMPAIGN_NAMES_ZH)
_NAME_EN = fmt.vocab(vocab.CAMPAIGN_NAMES_EN)
_DEPT_ZH = fmt.vocab(("全院",) + tuple(d.name_zh for d in DEPARTMENTS))
_DEPT_EN = fmt.vocab(("Hospital-wide",) + tuple(d.name_en for d in DEPARTMENTS))


# -- campaigns ------------------------------------------------------------------------------------


def _month_campaigns(year: int, month: int, scale: float, seed: int) -> Frame:
    rng = stream(seed, "campaigns", year * 12 + month)
    n = max(1, int(rng.poisson(max(1.5, 5.0 * np.sqrt(scale)))))
    kind = categorical(rng, vocab.CAMPAIGN_TYPE_WEIGHTS, n)
    first = epoch_day(date(year, month, 1))
    start = first + rng.integers(0, calendar.monthrange(year, month)[1], n)
    lo = np.array([r[0] for r in vocab.CAMPAIGN_DAYS])[kind]
    hi = np.array([r[1] for r in vocab.CAMPAIGN_DAYS])[kind]
    end = start + lo + np.floor(rng.random(n) * (hi - lo + 1)).astype(np.int64) - 1
    announce = start - np.where(kind == 4, rng.integers(3, 11, n), rng.integers(7, 29, n))
    channel = np.select(
        [kind == 0, kind == 1, kind == 2, kind == 3, kind == 4],
        [
            np.full(n, COMMUNITY),
            np.where(rng.random(n) < 0.5, COMMUNITY, WECHAT),
            np.where(rng.random(n) < 0.5, APP, WECHAT),
            np.full(n, COMMUNITY),
            np.full(n, SEARCH),
        ],
        np.where(rng.random(n) < 0.7, WECHAT, WEB),
    )
    budget = np.array(vocab.CAMPAIGN_BUDGETS)[kind] * scale**0.7 * lognormal(rng, 1.0, 0.3, n)
    revised = rng.random(n) < 0.15
    return Frame(
        {
            "key": (year * 100 + month) * 100 + np.arange(1, n + 1),
            "kind": kind,
            "start": start,
            "end": end,
            "announce": announce,
            "channel": channel,
            "dept": np.where(rng.random(n) < 0.7, rng.integers(1, len(DEPARTMENTS), n), -1),
            "budget": np.maximum(np.round(budget / 100) * 10_000, 10_000).astype(np.int64),  # cents
            "english": rng.random(n) < 0.2,
            "revised": revised,
            "revised_budget": (np.round(budget * rng.uniform(0.8, 1.3, n) / 100) * 10_000).astype(np.int64),
        }
    )


def campaign_calendar(first_day: int, last_day: int, scale: float, seed: int) -> Frame:
    """Every campaign of the months touching [first_day - 4 months, last_day + 2 months]."""
    lo = date.fromordinal(EPOCH.toordinal() + first_day - 120)
    hi = date.fromordinal(EPOCH.toordinal() + last_day + 62)
    frames = []
    year, month = lo.year, lo.month
    while (year, month) <= (hi.year, hi.month):
        frames.append(_month_campaigns(year, month, scale, seed))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return Frame.concat(frames)


def campaigns_for_day(cal: Frame, day: int, *, first_drop: bool) -> Frame:
    """Rows of ``campaigns.csv`` for one drop: announcements (all known ones on the first drop) and
    budget revisions on a campaign's first day."""
    if first_drop:
        new = (cal["announce"] <= day) & (cal["end"] >= day - 90)
    else:
        new = cal["announce"] == day
    revise = cal["revised"] & (cal["start"] == day) & (cal["announce"] < day)
    if first_drop:
        revise &= ~new | (cal["start"] == day)
    rows = np.flatnonzero(new | revise)
    out = cal.take(rows)
    out["budget"] = np.where(revise[rows], cal["revised_budget"][rows], cal["budget"][rows])
    out["lu"] = np.full(len(rows), day * DAY)
    return out


def campaign_ids(keys: np.ndarray) -> pa.Array:
    """``CMP202403-02`` from key 20240302."""
    return fmt.concat_text(fmt.digits(keys // 100, 6, "CMP"), fmt.digits(keys % 100, 2, "-"))


def promotion_weights(cal: Frame, day: int) -> np.ndarray:
    """Each campaign's share of today's promoted attention (daily spend), zero when not running."""
    window_start = np.where(
        _EVENT_TYPES[cal["kind"]], np.maximum(cal["start"] - 7, cal["announce"]), cal["start"]
    )
    active = (window_start <= day) & (day <= cal["end"])
    spend = cal["budget"] / (cal["end"] - window_start + 1)
    return np.where(active, spend, 0.0)


def encode_campaigns(f: Frame) -> tuple[list[Group], pa.Array]:
    ids = campaign_ids(f["key"])
    dept = f["dept"] + 1
    kind = np.minimum(f["kind"], len(vocab.CAMPAIGN_NAMES_ZH) - 1)
    zh = fmt.concat_text(fmt.take(_DEPT_ZH, np.maximum(dept, 0)), fmt.take(_NAME_ZH, kind))
    en = fmt.concat_text(fmt.take(_DEPT_EN, np.maximum(dept, 0)), " ", fmt.take(_NAME_EN, kind))
    budget = f["budget"]
    groups: list[Group] = [
        ("campaign_id", [ids]),
        ("_1", [","]),
        ("name", [fmt.when(f["english"], en, zh)]),
        ("_2", [","]),
        ("type", [fmt.take(_TYPE, f["kind"])]),
        ("_3", [","]),
        ("channel", [fmt.take(_CHANNEL, f["channel"])]),
        ("_4", [","]),
        ("department", [fmt.take(_DEPT, np.maximum(dept, 0))]),
        ("_5", [","]),
        ("start_date", [fmt.date_str(f["start"])]),
        ("_6", [","]),
        ("end_date", [fmt.date_str(f["end"])]),
        ("_7", [","]),
        ("budget", [fmt.int_str(budget // 100), fmt.digits(budget % 100, 2, ".")]),
    ]
    return groups, ids


# -- touches --------------------------------------------------------------------------------------


def expected_encounters(day: int, scale: float) -> float:
    return ed_volume(day, scale) + sum(opd_demand(day, d, scale) for d in DEPARTMENTS) + 40 * scale


def _campaign_channel(cal: Frame, bucket: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    n = len(bucket)
    organic = _ORGANIC_CHANNELS[categorical(rng, [0.45, 0.2, 0.15, 0.2], n)]
    own = cal["channel"][np.maximum(bucket, 0)] if len(cal) else organic
    return np.where((bucket >= 0) & (rng.random(n) < 0.85), own, organic)


def audience_touches(
    day: int, scale: float, cal: Frame, known: np.ndarray, rng: np.random.Generator
) -> Frame:
    """Impressions, clicks and engagement of the day (organic and campaign)."""
    total = TOUCHES_PER_ENCOUNTER * expected_encounters(day, scale)
    weights = promotion_weights(cal, day) if len(cal) else np.zeros(0)
    campaign_total = weights.sum()
    organic_share = 0.35 if campaign_total > 0 else 1.0
    probs = np.concatenate([[organic_share], (1 - organic_share) * weights / max(campaign_total, 1e-9)])
    n_imp = int(rng.poisson(total * _IMPRESSION_SHARE))
    bucket = categorical(rng, probs, n_imp) - 1
    strangers = max(1000, int(300_000 * scale))
    from_known = (rng.random(n_imp) < 0.22) & (len(known) > 0)
    person = np.where(
        from_known,
        known[rng.integers(0, max(len(known), 1), n_imp)] if len(known) else 0,
        -1 - np.floor(strangers * rng.random(n_imp) ** 2).astype(np.int64),
    )
    ts = day * DAY + hour_times(rng, TOUCH_BY_HOUR, n_imp)
    imp = Frame(
        {
            "person": person,
            "known": from_known,
            "channel": _campaign_channel(cal, bucket, rng),
            "bucket": bucket,
            "action": np.full(n_imp, IMPRESSION),
            "ts": ts,
        }
    )
    clicks = _follow(imp, rng.random(n_imp) < _CLICK_SHARE / _IMPRESSION_SHARE, CLICK, 40.0, rng)
    parts = [imp, clicks]
    for action, rate in _ENGAGEMENT_RATE.items():
        chosen = rng.random(len(clicks)) < rate / _CLICK_SHARE
        engaged = _follow(clicks, chosen, action, 90.0, rng)
        if action == SHARE and len(known) and len(engaged):
            by_patient = rng.random(len(engaged)) < 0.7
            engaged["person"] = np.where(
                by_patient, known[rng.integers(0, len(known), len(engaged))], engaged["person"]
            )
            engaged["known"] = engaged["known"] | by_patient
        parts.append(engaged)
    out = Frame.concat(parts)
    out["ts"] = np.minimum(out["ts"], day * DAY + DAY - 1)
    return out


def _follow(
    source: Frame, chosen: np.ndarray, action: int, median_s: float, rng: np.random.Generator
) -> Frame:
    """The next funnel step by the same person, a little later."""
    out = source.take(np.flatnonzero(chosen))
    out["action"] = np.full(len(out), action)
    out["ts"] = out["ts"] + lognormal(rng, median_s, 0.8, len(out)).astype(np.int64) + 1
    return out


def booking_touches(bookings: Frame, cal_keys: np.ndarray) -> Frame:
    """The tracked ``booking`` touch of bookings made online (links anonymous id and patient)."""
    rows = np.flatnonzero(bookings["tracked"])
    b = bookings.take(rows)
    campaign = b["campaign"]
    return Frame(
        {
            "person": b["patient"],
            "known": np.ones(len(rows), bool),
            "channel": BOOKING_TO_TOUCH_CHANNEL[b["channel"]],
            "bucket": campaign,
            "action": np.full(len(rows), BOOKING),
            "ts": b["created"],
        }
    )


def acquisition_touches(bookings: Frame, not_before: int, rng: np.random.Generator, cal: Frame) -> Frame:
    """Impressions and a click under the new patient's anonymous id before a campaign-acquired booking."""
    rows = np.flatnonzero((bookings["campaign"] >= 0) & (bookings["created"] > not_before + 30 * MINUTE))
    b = bookings.take(rows)
    k = 1 + rng.poisson(1.5, len(rows))
    owner = np.repeat(np.arange(len(rows)), k)
    created = b["created"][owner]
    lo = np.maximum(created - 14 * DAY, not_before)
    ts = lo + (rng.random(len(owner)) * (created - 10 * MINUTE - lo)).astype(np.int64)
    channel = cal["channel"][b["campaign"]] if len(cal) else np.zeros(len(rows), np.int64)
    imp = Frame(
        {
            "person": b["patient"][owner],
            "known": np.zeros(len(owner), bool),
            "channel": channel[owner],
            "bucket": b["campaign"][owner],
            "action": np.full(len(owner), IMPRESSION),
            "ts": ts,
        }
    )
    click = Frame(
        {
            "person": b["patient"],
            "known": np.zeros(len(rows), bool),
            "channel": channel,
            "bucket": b["campaign"],
            "action": np.full(len(rows), CLICK),
            "ts": b["created"] - rng.integers(2, 10, len(rows)) * MINUTE,
        }
    )
    return Frame.concat([imp, click])


def anonymous_ids(person: np.ndarray) -> pa.Array:
    """One stable anonymous id per person (patients ≥ 0, strangers < 0)."""
    key = np.where(person >= 0, person, STRANGER_BASE - person)
    return fmt.hex_ids(key, ANON_SALT, prefix="o", width=27)


def encode_touches(f: Frame, cal: Frame) -> tuple[list[Group], pa.Array]:
    ids = fmt.hex_ids(f["touch"], TOUCH_SALT, prefix="t_")
    person = f["person"]
    campaigns = pa.concat_arrays([pa.array(["null"]), fmt.concat_text('"', campaign_ids(cal["key"]), '"')])
    patient = fmt.sparse(
        f["known"] & (person >= 0), lambda rows: fmt.concat_text('"', patient_ids(person[rows]), '"'), "null"
    )
    groups: list[Group] = [
        ("touch_id", ['{"touch_id":"', ids, '"']),
        ("ts", [',"ts":"', fmt.local_ts(f["ts"]), '"']),
        ("anonymous_id", [',"anonymous_id":"', anonymous_ids(person), '"']),
        ("patient_id", [',"patient_id":', patient]),
        ("channel", [',"channel":"', fmt.take(_CHANNEL, f["channel"]), '"']),
        ("campaign_id", [',"campaign_id":', fmt.take(campaigns, f["bucket"] + 1)]),
        ("action", [',"action":"', fmt.take(_ACTION, f["action"]), '"']),
        ("close", ["}"]),
    ]
    return groups, ids
