"""Appointment records and Slot snapshots from the open clinic days, and their FHIR text.

Each drop holds an Appointment when it is created (``booked``) and again when its status changes
(``fulfilled`` at check-in, ``noshow`` after the session, ``cancelled`` with a reason, the cancel time in
``meta.lastUpdated``); when both happen on the same day only the latest state is exported. The first drop
also exports every booking made before the start that is still pending. Each drop also holds a
snapshot of every slot in the next 8 weeks, ``busy`` exactly when a booking holds it at the snapshot
time.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from journey_demo import fmt
from journey_demo.fmt import Group
from journey_demo.frames import Frame
from journey_demo.model import (
    APPOINTMENT_STATUSES,
    BOOKED,
    BOOKING_CHANNELS,
    CANCEL_REASONS,
    CANCELLED,
    CHANNEL_EXTENSION,
    DAY,
    DEPT_CODES,
    DEPT_NAMES_ZH,
    DEPT_SYSTEM,
    HORIZON_DAYS,
    NOSHOW,
    SLOT_STATUSES,
)
from journey_demo.patients import patient_ids

APPOINTMENT_SALT = 0xA9901
SLOT_SALT = 0x510751
_STATUS = fmt.vocab(APPOINTMENT_STATUSES)
_CHANNEL = fmt.vocab(BOOKING_CHANNELS)
_DEPT = fmt.vocab(DEPT_CODES)
_DEPT_ZH = fmt.vocab(DEPT_NAMES_ZH)
_REASON = fmt.vocab(CANCEL_REASONS)
_SLOT_STATUS = fmt.vocab(SLOT_STATUSES)


def appointment_ids(idx: np.ndarray) -> pa.StringArray:
    return fmt.hex_ids(idx, APPOINTMENT_SALT)


def slot_ids(keys: np.ndarray) -> pa.StringArray:
    return fmt.hex_ids(keys, SLOT_SALT)


def outcome_time(bookings: Frame) -> np.ndarray:
    """When the booking reached its final status (cancel time, check-in, or the end of the session)."""
    outcome = bookings["outcome"]
    return np.where(
        outcome == CANCELLED,
        bookings["release"],
        np.where(outcome == NOSHOW, bookings["end"] + 1800, bookings["arrival"]),
    ).astype(np.int64)


def records_for_day(bookings: Frame, day: int, *, first_drop: bool) -> Frame:
    """The Appointment rows of one drop: new bookings and status changes of ``day``."""
    created_day = bookings["created"] // DAY
    final = outcome_time(bookings)
    final_day = final // DAY
    changed = final_day == day
    created = (created_day == day) & ~changed
    if first_drop:
        created |= (created_day < day) & (final_day > day)
    rows = np.flatnonzero(created | changed)
    status = np.where(changed[rows], bookings["outcome"][rows], BOOKED)
    lu = np.where(changed[rows], final[rows], bookings["created"][rows])
    out = bookings.take(rows)
    out["status"] = status
    out["lu"] = lu
    return out


def slot_snapshot(slots: Frame, bookings: Frame, day: int) -> Frame:
    """Every open slot of the next 8 weeks with its status at the end of ``day``.

    ``slots`` is sorted by ``key``; a slot is ``busy`` exactly when a booking holds it at that time.
    """
    at = day * DAY + DAY - 1
    holding = (bookings["created"] <= at) & (bookings["release"] > at)
    busy = np.zeros(len(slots), dtype=bool)
    busy[np.searchsorted(slots["key"], bookings["key"][holding])] = True
    lo, hi = np.searchsorted(slots["cday"], [day, day + HORIZON_DAYS], side="right")
    out = slots.slice(int(lo), int(hi))
    out["status"] = np.where(out["blocked"], 2, busy[lo:hi].astype(np.int64))
    out["lu"] = np.full(len(out), at, dtype=np.int64)
    out["dept0"] = out["dept"].copy()
    out["end0"] = out["end"].copy()
    return out


def _coding(codes: pa.Array, names: pa.Array) -> list[fmt.Seg]:
    return ['[{"coding":[{"system":"', DEPT_SYSTEM, '","code":"', codes, '","display":"', names, '"}]}]']


def encode_appointments(frame: Frame) -> tuple[list[Group], pa.Array]:
    ids = appointment_ids(frame["appt"])
    dept = frame["dept"]
    cancelled = frame["status"] == CANCELLED
    practitioner = fmt.concat_text(fmt.take(_DEPT, np.minimum(dept, 9)), "-", fmt.int_str(frame["lane"] + 1))
    groups: list[Group] = [
        ("resourceType", ['{"resourceType":"Appointment"']),
        ("id", [',"id":"', ids, '"']),
        ("meta", [',"meta":{"lastUpdated":"', fmt.instant(frame["lu"]), '"}']),
        (
            "extension",
            [
                ',"extension":[{"url":"',
                CHANNEL_EXTENSION,
                '","valueCode":"',
                fmt.take(_CHANNEL, frame["channel"]),
                '"}]',
            ],
        ),
        ("status", [',"status":"', fmt.take(_STATUS, frame["status"]), '"']),
        (
            "cancelationReason",
            [
                fmt.when(
                    cancelled,
                    fmt.concat_text(
                        ',"cancelationReason":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/'
                        'appointment-cancellation-reason","code":"',
                        fmt.take(_REASON, frame["reason"]),
                        '"}]}',
                    ),
                )
            ],
        ),
        ("serviceType", [',"serviceType":', *_coding(fmt.take(_DEPT, dept), fmt.take(_DEPT_ZH, dept))]),
        ("start", [',"start":"', fmt.instant(frame["start"]), '"']),
        ("end", [',"end":"', fmt.instant(frame["end"]), '"']),
        ("created", [',"created":"', fmt.instant(frame["created"]), '"']),
        ("slot", [',"slot":[{"reference":"Slot/', slot_ids(frame["key"]), '"}]']),
        (
            "participant",
            [
                ',"participant":[{"actor":{"reference":"Patient/',
                patient_ids(frame["patient"]),
                '"},"status":"accepted"},{"actor":{"reference":"Practitioner/dr-',
                practitioner,
                '"},"status":"accepted"}]',
            ],
        ),
        ("close", ["}"]),
    ]
    return groups, ids


def slot_heads(slots: Frame) -> pa.Array:
    """The part of each Slot line that never changes between snapshots (id, schedule, type, times).

    Built from the ``dept0`` / ``end0`` columns: the values before any fault was injected.
    """
    dept = slots["dept0"]
    return fmt.concat_text(
        '{"resourceType":"Slot","id":"',
        slot_ids(slots["key"]),
        '","schedule":{"reference":"Schedule/',
        fmt.take(_DEPT, np.minimum(dept, 9)),
        "-",
        fmt.int_str(slots["lane"] + 1),
        '"},"serviceType":[{"coding":[{"system":"',
        DEPT_SYSTEM,
        '","code":"',
        fmt.take(_DEPT, dept),
        '"}]}],"start":"',
        fmt.instant(slots["start"]),
        '","end":"',
        fmt.instant(slots["end0"]),
        '"',
    )


def _faulted_heads(slots: Frame) -> pa.Array:
    return slot_heads(Frame({**slots.cols, "dept0": slots["dept"], "end0": slots["end"]}))


def encode_slots(frame: Frame, heads: dict[int, pa.Array]) -> tuple[list[Group], pa.Array]:
    """Slot lines from the heads of their clinic day, cached across the 8 weekly snapshots it is in.

    In the usual case (a whole snapshot in clinic-day order) the cached heads are used as they are,
    one chunk per clinic day, without copying; rows a fault changed are rebuilt.
    """
    cday = frame["cday"]
    days = np.unique(cday)
    for d in days:
        if int(d) not in heads:  # the clinic day's first snapshot holds all its slots in order
            rows = np.flatnonzero(cday == d)
            heads[int(d)] = slot_heads(frame.take(rows[np.argsort(frame["crow"][rows])]))
    cached = [heads[int(d)] for d in days]
    offsets = np.concatenate([[0], np.cumsum([len(c) for c in cached])[:-1]]).astype(np.int64)
    index = offsets[np.searchsorted(days, cday)] + frame["crow"]
    head = pa.chunked_array(cached, type=pa.string())
    if len(index) != len(head) or (index != np.arange(len(index))).any():
        head = head.take(pa.array(index))
    changed = np.flatnonzero((frame["dept"] != frame["dept0"]) | (frame["end"] != frame["end0"]))
    if len(changed):
        replace = np.arange(len(head))
        replace[changed] = len(head) + np.arange(len(changed))
        fixed = _faulted_heads(frame.take(changed))
        head = pa.chunked_array(head.chunks + [fixed], type=pa.string()).take(pa.array(replace))
    groups: list[Group] = [
        ("head", [head]),
        ("status", [',"status":"', fmt.take(_SLOT_STATUS, frame["status"]), '"']),
        ("meta", [',"meta":{"lastUpdated":"', fmt.instant_seg(frame["lu"]), '"}']),
        ("close", ["}"]),
    ]
    return groups, slot_ids(frame["key"])
