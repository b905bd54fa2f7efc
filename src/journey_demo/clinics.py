"""Outpatient clinics: the slot calendar of one clinic day and the bookings that fill it.

``plan_clinic_day`` decides everything about one clinic day when it enters the 8-week booking horizon,
from its own random stream (so a clinic day looks the same whichever day the run started): the slots
(sessions x lanes, some sessions blocked for leave), which slots are booked, each booking's channel,
lead time (``created`` ≤ ``start``), outcome (fulfilled / no-show / cancelled, some cancellations late
within 24 h, some cancelled slots re-booked) and, for fulfilled visits, the check-in, provider and
departure times. Clinics run late as a session goes on (more on Mondays), which is where outpatient
waits come from. Patients are attached later, on the day each booking is created.
"""

from __future__ import annotations

import numpy as np

from journey_demo.frames import Frame
from journey_demo.model import (
    BOOKING_BY_HOUR,
    CANCELLED,
    CLINIC_OVERRUN_WEEKDAY,
    DAY,
    DEPARTMENTS,
    FULFILLED,
    HORIZON_DAYS,
    MINUTE,
    NOSHOW,
    OPD_WEEKDAY,
    WALK_IN,
    categorical,
    hour_times,
    is_holiday,
    lognormal,
    opd_demand,
    stream,
    weekday,
)

NEVER = np.iinfo(np.int64).max
# Channels: wechat, web, app, phone, referral, walk-in.
CHANNEL_MIX = np.array([0.33, 0.08, 0.14, 0.18, 0.12, 0.15])
YIELD = 0.855  # fulfilled visits per first booking (after cancellations, re-bookings and no-shows)
_TARGET_PEAK_UTILISATION = 0.95
_DAY_MINUTES = 450


def sessions(day: int, sunday_clinic: bool) -> list[tuple[int, int]]:
    """(start minute, length in minutes) of the clinic sessions on an epoch day."""
    wd = weekday(day)
    if wd < 5:
        return [(8 * 60, 240), (13 * 60 + 30, 210)]
    if wd == 5 or sunday_clinic:
        return [(8 * 60, 240)]
    return []


def lanes(dept_index: int, scale: float) -> float:
    """Parallel clinicians so that the busiest weekday is about 95 % booked."""
    dept = DEPARTMENTS[dept_index]
    peak = dept.outpatient_per_day * scale * OPD_WEEKDAY.max() / YIELD
    return peak / _TARGET_PEAK_UTILISATION * dept.slot_minutes / _DAY_MINUTES


def _slots(day: int, scale: float, rng: np.random.Generator) -> Frame:
    parts: list[dict[str, np.ndarray]] = []
    capacity = 0.4 if is_holiday(day) else 1.0
    for d, dept in enumerate(DEPARTMENTS):
        if dept.outpatient_per_day <= 0:
            continue
        c = lanes(d, scale)
        n_lanes = max(1, int(np.ceil(c)))
        i0 = 0
        for s, (start_min, minutes) in enumerate(sessions(day, dept.sunday_clinic)):
            per_lane = minutes // dept.slot_minutes
            n = max(1, int(round(c * per_lane * capacity)))
            i = np.arange(n)
            lane = i % n_lanes
            pos = i // n_lanes
            start = day * DAY + (start_min + pos * dept.slot_minutes) * MINUTE
            blocked = rng.random(n_lanes) < 0.03
            parts.append(
                {
                    "key": (day * 16 + d) * 65_536 + i0 + i,
                    "dept": np.full(n, d),
                    "lane": lane,
                    "session": np.full(n, s),
                    "pos": pos,
                    "start": start,
                    "end": start + dept.slot_minutes * MINUTE,
                    "blocked": blocked[lane],
                }
            )
            i0 += n
    if not parts:
        return Frame(
            {
                k: np.empty(0, np.int64)
                for k in ("key", "dept", "lane", "session", "pos", "start", "end", "blocked")
            }
        )
    return Frame({k: np.concatenate([p[k] for p in parts]) for k in parts[0]})


def _book(day: int, slots: Frame, scale: float, rng: np.random.Generator) -> np.ndarray:
    """Indices of the slots that get a first booking (popular morning slots first)."""
    chosen: list[np.ndarray] = []
    for d, dept in enumerate(DEPARTMENTS):
        free = np.flatnonzero((slots["dept"] == d) & ~slots["blocked"])
        if not len(free):
            continue
        want = min(len(free), int(rng.poisson(opd_demand(day, dept, scale) / YIELD)))
        popularity = np.where(slots["session"][free] == 0, 1.3, 1.0)
        keys = np.log(popularity) + rng.gumbel(size=len(free))
        chosen.append(free[np.argsort(-keys, kind="stable")[:want]])
    return np.sort(np.concatenate(chosen)) if chosen else np.empty(0, np.int64)


def _created(
    day: int, start: np.ndarray, lead: np.ndarray, walk_in: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    n = len(start)
    ahead = (day - lead) * DAY + hour_times(rng, BOOKING_BY_HOUR, n)
    same_day_earliest = day * DAY + 6 * 3600 + 30 * MINUTE
    same_day = same_day_earliest + rng.random(n) * np.maximum(start - 15 * MINUTE - same_day_earliest, 0)
    walk = start - rng.integers(5, 60, n) * MINUTE
    return np.where(walk_in, walk, np.where(lead == 0, same_day, ahead)).astype(np.int64)


def _outcomes(
    start: np.ndarray, created: np.ndarray, lead: np.ndarray, walk_in: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """(outcome, release time of the slot: the cancellation time, else NEVER)."""
    n = len(start)
    cancel = (lead > 0) & (rng.random(n) < 0.10)
    late = rng.random(n) < 0.3
    late_time = start - rng.integers(60, 24 * 60, n) * MINUTE
    early_time = created + rng.random(n) * np.maximum(start - DAY - created, 0)
    cancel_time = np.where(late | (start - DAY <= created), late_time, early_time)
    cancel_time = np.maximum(cancel_time, created + 10 * MINUTE).astype(np.int64)
    cancel &= cancel_time < start
    p_noshow = np.where(walk_in, 0.0, 0.07 + 0.16 * np.minimum(lead, 28) / 28)
    noshow = ~cancel & (rng.random(n) < p_noshow)
    outcome = np.where(cancel, CANCELLED, np.where(noshow, NOSHOW, FULFILLED))
    return outcome, np.where(cancel, cancel_time, NEVER)


def _bookings(day: int, slots: Frame, rows: np.ndarray, rng: np.random.Generator, *, rebook: bool) -> Frame:
    n = len(rows)
    start = slots["start"][rows]
    channel = categorical(rng, CHANNEL_MIX if not rebook else CHANNEL_MIX[:5], n)
    walk_in = channel == WALK_IN
    long_lead = np.isin(channel, (3, 4))  # phone and referral book further ahead
    lead = np.floor(lognormal(rng, np.where(long_lead, 10.0, 5.0), 1.0, n)).astype(np.int64)
    lead = np.where(walk_in, 0, np.where(rng.random(n) < 0.12, 0, lead)).clip(0, HORIZON_DAYS - 1)
    created = _created(day, start, lead, walk_in, rng)
    outcome, release = _outcomes(start, created, lead, walk_in, rng)
    new = rng.random(n) < np.where(channel == 4, 0.35, np.where(walk_in, 0.25, 0.16))
    return Frame(
        {
            "slot": rows,
            "day": np.full(n, day),
            "dept": slots["dept"][rows],
            "lane": slots["lane"][rows],
            "start": start,
            "end": slots["end"][rows],
            "created": created,
            "lead": lead,
            "channel": channel,
            "outcome": outcome,
            "release": release,
            "reason": categorical(rng, [0.8, 0.12, 0.08], n),
            "new": new,
            "tracked": np.isin(channel, (0, 1, 2)) & (rng.random(n) < 0.15),
        }
    )


def _rebookings(day: int, slots: Frame, first: Frame, rng: np.random.Generator) -> Frame:
    """Some cancelled slots are taken again by a booking made after the cancellation."""
    freed = (first["outcome"] == CANCELLED) & (first["release"] <= first["start"] - 2 * 3600)
    freed &= rng.random(len(first)) < 0.45
    idx = np.flatnonzero(freed)
    second = _bookings(day, slots, first["slot"][idx], rng, rebook=True)
    lo = first["release"][idx] + 10 * MINUTE
    hi = first["start"][idx] - 3600
    second["created"] = (lo + rng.random(len(idx)) * np.maximum(hi - lo, 0)).astype(np.int64)
    second["lead"] = (second["start"] // DAY - second["created"] // DAY).astype(np.int64)
    second["outcome"] = np.where(second["outcome"] == CANCELLED, FULFILLED, second["outcome"])
    second["release"] = np.full(len(idx), NEVER)
    return second


def _visit_times(day: int, slots: Frame, bookings: Frame, rng: np.random.Generator) -> None:
    """Check-in, provider and departure times (used for fulfilled bookings)."""
    n = len(bookings)
    slot = bookings["slot"]
    start = bookings["start"]
    minutes = np.array([d.slot_minutes for d in DEPARTMENTS])[bookings["dept"]]
    arrival = start + np.clip(rng.normal(-15, 12, n), -60, 25).astype(np.int64) * MINUTE
    walk_in = bookings["channel"] == WALK_IN
    arrival = np.where(walk_in, bookings["created"] + rng.integers(60, 300, n), arrival)
    arrival = np.maximum(arrival, bookings["created"] + 2 * MINUTE)
    # Each (department, session, lane) runs late at its own rate; Mondays and mornings are worse.
    session_key = (slots["dept"][slot] * 8 + slots["session"][slot]) * 256 + slots["lane"][slot]
    unique_keys, inverse = np.unique(session_key, return_inverse=True)
    overrun = lognormal(rng, 0.10, 0.6, len(unique_keys))[inverse]
    overrun *= CLINIC_OVERRUN_WEEKDAY[weekday(day)] * np.where(slots["session"][slot] == 0, 1.0, 0.8)
    delay = slots["pos"][slot] * minutes * overrun * lognormal(rng, 1.0, 0.25, n) * MINUTE
    seen = np.maximum(
        arrival + rng.integers(60, 240, n), start + delay.astype(np.int64) + rng.integers(0, 180, n)
    )
    consult = (minutes * lognormal(rng, 1.0, 0.35, n) * MINUTE).astype(np.int64)
    extra = np.where(rng.random(n) < 0.5, lognormal(rng, 20.0, 0.6, n) * MINUTE, 0).astype(np.int64)
    departure = np.minimum(seen + consult + extra, day * DAY + DAY - 60)
    bookings["arrival"] = arrival
    bookings["seen"] = seen
    bookings["departure"] = departure


def plan_clinic_day(day: int, scale: float, seed: int) -> tuple[Frame, Frame]:
    """(slots, bookings) of one clinic day; bookings sorted by creation time."""
    rng = stream(seed, "clinic", day)
    slots = _slots(day, scale, rng)
    first = _bookings(day, slots, _book(day, slots, scale, rng), rng, rebook=False)
    second = _rebookings(day, slots, first, rng)
    bookings = Frame.concat([first, second]) if len(second) else first
    if len(bookings):
        _visit_times(day, slots, bookings, rng)
        bookings = bookings.take(np.argsort(bookings["created"], kind="stable"))
    else:
        for name in ("arrival", "seen", "departure"):
            bookings[name] = np.empty(0, np.int64)
    return slots, bookings
