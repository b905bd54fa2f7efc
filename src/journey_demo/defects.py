"""Fault injection: the ways real source systems get records wrong, each one recorded.

With ``defect_rate`` R, each file's rows get a fault with probability R, one fault per row, the kind drawn
from those that make sense for that file:

* content faults change the record before it is written: ``missing_required`` (a required element
  absent / a required CSV field empty), ``out_of_order`` (triaged before arrived, departure before
  arrival, created after start, resolved before received…), ``future_timestamp`` (after the drop),
  ``unknown_code`` (department, class ``XYZ``, channel, action, platform… not in the contract);
* line faults change the written line: ``malformed`` (truncated JSON, CSV row with the wrong number of
  fields), ``duplicate`` (the exact line sent twice), ``late`` (the line moved 1-5 drops later);
* ``encoding``: one ``complaints.csv`` written in GB18030 (in runs too short to land a complaint in
  Chinese, the first CSV with Chinese text instead).

``Fault`` rows say which frame row got which fault; ``writer`` turns them into the final file/row.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from journey_demo.frames import Frame
from journey_demo.model import (
    DAY,
    DEPT_CODES,
    EMER,
    HOUR,
    MINUTE,
    N_ACTIONS,
    N_BOOKING_CHANNELS,
    N_CAMPAIGN_TYPES,
    N_COMPLAINT_CATEGORIES,
    N_DEPTS,
    N_FOLLOW_UP_OUTCOMES,
    N_REVIEW_PLATFORMS,
    N_TOUCH_CHANNELS,
)

DUPLICATE = "duplicate"
MISSING = "missing_required"
OUT_OF_ORDER = "out_of_order"
FUTURE = "future_timestamp"
UNKNOWN = "unknown_code"
MALFORMED = "malformed"
LATE = "late"
ENCODING = "encoding"
KINDS = (DUPLICATE, MISSING, OUT_OF_ORDER, FUTURE, UNKNOWN, MALFORMED, LATE, ENCODING)


@dataclass
class Mutation:
    """What a content fault did to some rows: the field touched, and the group to omit if any."""

    fields: np.ndarray  # str per row
    omit: np.ndarray | None = None  # group name per row ("" = none)


Mutator = Callable[[Frame, np.ndarray, np.random.Generator, int], Mutation]


def _pick(rng: np.random.Generator, options: tuple[str, ...], n: int) -> np.ndarray:
    return np.array(options, dtype=object)[rng.integers(0, len(options), n)]


def _future(drop_end: int, rng: np.random.Generator, n: int) -> np.ndarray:
    return drop_end + 2 * HOUR + (rng.random(n) * 20 * DAY).astype(np.int64)


def _unknown_dept(rng: np.random.Generator, n: int) -> np.ndarray:
    return rng.integers(N_DEPTS, len(DEPT_CODES), n)


def _omit(*groups: str) -> Mutator:
    def mutate(f: Frame, rows: np.ndarray, rng: np.random.Generator, drop_end: int) -> Mutation:
        chosen = _pick(rng, groups, len(rows))
        return Mutation(fields=chosen, omit=chosen)

    return mutate


def _set_future(*columns: str, field: str) -> Mutator:
    def mutate(f: Frame, rows: np.ndarray, rng: np.random.Generator, drop_end: int) -> Mutation:
        value = _future(drop_end, rng, len(rows))
        for column in columns:
            f[column][rows] = value
        return Mutation(fields=np.full(len(rows), field, dtype=object))

    return mutate


def _code(column: str, first_unknown: int, count: int, field: str) -> tuple[str, int, int, str]:
    return column, first_unknown, count, field


def _unknown(*options: tuple[str, int, int, str]) -> Mutator:
    def mutate(f: Frame, rows: np.ndarray, rng: np.random.Generator, drop_end: int) -> Mutation:
        which = rng.integers(0, len(options), len(rows))
        fields = np.empty(len(rows), dtype=object)
        for i, (column, first, count, field) in enumerate(options):
            sel = rows[which == i]
            f[column][sel] = first + rng.integers(0, count, len(sel))
            fields[which == i] = field
        return Mutation(fields=fields)

    return mutate


def _encounter_order(f: Frame, rows: np.ndarray, rng: np.random.Generator, drop_end: int) -> Mutation:
    triaged = (f["cls"][rows] == EMER) & (f["style"][rows] <= 1) & (f["triage"][rows] >= 0)
    triaged &= rng.random(len(rows)) < 0.5
    t_rows, d_rows = rows[triaged], rows[~triaged]
    f["triage"][t_rows] = f["arrival"][t_rows] - rng.integers(5, 60, len(t_rows)) * MINUTE
    f["departure"][d_rows] = f["arrival"][d_rows] - rng.integers(10, 120, len(d_rows)) * MINUTE
    return Mutation(fields=np.where(triaged, "statusHistory.triaged", "period.end").astype(object))


def _appointment_order(f: Frame, rows: np.ndarray, rng: np.random.Generator, drop_end: int) -> Mutation:
    f["created"][rows] = f["start"][rows] + rng.integers(1, 48, len(rows)) * HOUR
    return Mutation(fields=np.full(len(rows), "created", dtype=object))


def _slot_order(f: Frame, rows: np.ndarray, rng: np.random.Generator, drop_end: int) -> Mutation:
    f["end"][rows] = f["start"][rows] - rng.integers(5, 30, len(rows)) * MINUTE
    return Mutation(fields=np.full(len(rows), "end", dtype=object))


def _follow_up_order(f: Frame, rows: np.ndarray, rng: np.random.Generator, drop_end: int) -> Mutation:
    done = f["completed"][rows] >= 0
    c_rows, a_rows = rows[done], rows[~done]
    f["completed"][c_rows] = (
        np.maximum(f["attempted"][c_rows], f["planned"][c_rows]) - rng.integers(1, 48, len(c_rows)) * HOUR
    )
    f["attempted"][a_rows] = f["planned"][a_rows] - rng.integers(1, 48, len(a_rows)) * HOUR
    return Mutation(fields=np.where(done, "completed_at", "attempted_at").astype(object))


def _complaint_order(f: Frame, rows: np.ndarray, rng: np.random.Generator, drop_end: int) -> Mutation:
    f["resolved"][rows] = f["received"][rows] - rng.integers(1, 72, len(rows)) * HOUR
    return Mutation(fields=np.full(len(rows), "resolved_at", dtype=object))


def _follow_up_future(f: Frame, rows: np.ndarray, rng: np.random.Generator, drop_end: int) -> Mutation:
    f["attempted"][rows] = _future(drop_end, rng, len(rows))
    f["outcome"][rows] = np.where(f["outcome"][rows] == 4, 1, f["outcome"][rows])
    return Mutation(fields=np.full(len(rows), "attempted_at", dtype=object))


def _campaign_order(f: Frame, rows: np.ndarray, rng: np.random.Generator, drop_end: int) -> Mutation:
    f["end"][rows] = f["start"][rows] - rng.integers(1, 10, len(rows))
    return Mutation(fields=np.full(len(rows), "end_date", dtype=object))


def _unknown_dept_field(column: str, field: str) -> tuple[str, int, int, str]:
    return column, N_DEPTS, len(DEPT_CODES) - N_DEPTS, field


CONTENT: dict[str, dict[str, Mutator]] = {
    "ehr/Encounter": {
        MISSING: _omit("class", "subject", "status"),
        OUT_OF_ORDER: _encounter_order,
        FUTURE: _set_future("departure", field="period.end"),
        UNKNOWN: _unknown(_unknown_dept_field("dept", "serviceType"), _code("cls", 3, 1, "class")),
    },
    "ehr/Appointment": {
        MISSING: _omit("status"),
        OUT_OF_ORDER: _appointment_order,
        FUTURE: _set_future("lu", field="meta.lastUpdated"),
        UNKNOWN: _unknown(
            _unknown_dept_field("dept", "serviceType"), _code("channel", N_BOOKING_CHANNELS, 2, "extension")
        ),
    },
    "ehr/Slot": {
        MISSING: _omit("status"),
        OUT_OF_ORDER: _slot_order,
        FUTURE: _set_future("lu", field="meta.lastUpdated"),
        UNKNOWN: _unknown(_unknown_dept_field("dept", "serviceType")),
    },
    "ehr/QuestionnaireResponse": {
        MISSING: _omit("encounter"),
        FUTURE: _set_future("authored", "lu", field="authored"),
    },
    "ehr/Patient": {},
    "crm/campaigns": {
        MISSING: _omit("campaign_id"),
        OUT_OF_ORDER: _campaign_order,
        UNKNOWN: _unknown(
            _code("kind", N_CAMPAIGN_TYPES, 1, "type"), _code("channel", N_TOUCH_CHANNELS, 2, "channel")
        ),
    },
    "crm/touches": {
        MISSING: _omit("ts", "anonymous_id", "action"),
        FUTURE: _set_future("ts", field="ts"),
        UNKNOWN: _unknown(
            _code("channel", N_TOUCH_CHANNELS, 2, "channel"), _code("action", N_ACTIONS, 1, "action")
        ),
    },
    "relations/follow_ups": {
        MISSING: _omit("encounter_id"),
        OUT_OF_ORDER: _follow_up_order,
        FUTURE: _follow_up_future,
        UNKNOWN: _unknown(_code("outcome", N_FOLLOW_UP_OUTCOMES, 1, "outcome")),
    },
    "relations/complaints": {
        MISSING: _omit("received_at"),
        OUT_OF_ORDER: _complaint_order,
        FUTURE: _set_future("received", field="received_at"),
        UNKNOWN: _unknown(
            _unknown_dept_field("dept", "department"),
            _code("category", N_COMPLAINT_CATEGORIES, 1, "category"),
        ),
    },
    "relations/reviews": {
        MISSING: _omit("rating"),
        FUTURE: _set_future("posted", field="posted_at"),
        UNKNOWN: _unknown(_code("platform", N_REVIEW_PLATFORMS, 1, "platform")),
    },
}
NO_LATE = frozenset({"crm/campaigns"})


@dataclass
class FaultPlan:
    """Which rows of one file get which fault."""

    rows: np.ndarray
    kinds: np.ndarray  # object array of kind names
    fields: np.ndarray  # object array ("" where not applicable)
    omit: np.ndarray  # object array of group names ("" = none)
    late_days: np.ndarray  # int per fault (0 unless late)

    @staticmethod
    def empty() -> FaultPlan:
        e = np.empty(0, dtype=object)
        return FaultPlan(np.empty(0, np.int64), e, e, e, np.empty(0, np.int64))


def plan_faults(
    key: str, f: Frame, rate: float, rng: np.random.Generator, drop_end: int, max_late: int
) -> FaultPlan:
    """Choose faulty rows, apply content faults to ``f`` in place, and say what was done."""
    if key not in CONTENT or rate <= 0 or not len(f):
        return FaultPlan.empty()
    kinds_here = [DUPLICATE, MALFORMED, *CONTENT[key]]
    if max_late > 0 and key not in NO_LATE:
        kinds_here.append(LATE)
    k = int(rng.binomial(len(f), rate))
    rows = np.sort(rng.choice(len(f), size=k, replace=False))
    kinds = np.array(kinds_here, dtype=object)[rng.integers(0, len(kinds_here), k)]
    fields = np.full(k, "", dtype=object)
    omit = np.full(k, "", dtype=object)
    for kind, mutate in CONTENT[key].items():
        sel = np.flatnonzero(kinds == kind)
        if len(sel):
            done = mutate(f, rows[sel], rng, drop_end)
            fields[sel] = done.fields
            if done.omit is not None:
                omit[sel] = done.omit
    late_days = np.where(kinds == LATE, rng.integers(1, max(max_late, 1) + 1, k), 0)
    return FaultPlan(rows, kinds, fields, omit, late_days)


def malform(lines: pa.Array, csv: bool, rng: np.random.Generator) -> pa.Array:
    """Break lines (each ending in a newline): truncated JSON (cut after the k-th comma, else before
    the closing brace) or CSV rows with an extra field / two fields merged."""
    n = len(lines)
    if not n:
        return lines
    body = pc.utf8_slice_codeunits(lines, 0, -1)
    if csv:
        extra = pc.binary_join_element_wise(body, ",#REF!", "")
        merged = pc.replace_substring_regex(body, pattern=",", replacement="", max_replacements=1)
        broken = pc.if_else(pa.array(rng.random(n) < 0.5), extra, merged)
    else:
        short = pc.utf8_slice_codeunits(body, 0, -1)
        broken = short
        cut_after = rng.integers(2, 6, n)
        for k in range(2, 6):
            cut = pc.replace_substring_regex(body, pattern=f"^((?:[^,]*,){{{k}}}).*$", replacement=r"\1")
            broken = pc.if_else(pa.array(cut_after == k), cut, broken)
        broken = pc.if_else(pc.equal(broken, body), short, broken)
    return pc.binary_join_element_wise(broken, "\n", "")
