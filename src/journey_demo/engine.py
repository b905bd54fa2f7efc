"""The day loop: simulate one hospital day, then write the drops due that day.

Each day, from random streams keyed by (seed, purpose, date): open the clinic day 8 weeks ahead, attach
patients to the bookings made today, simulate ED arrivals, admissions and outpatient visits, derive
experience, surveys, follow-ups, complaints, reviews and CRM touches, and put every record in the
outbox under the day it lands. Then write the day's drop: the Patient resources of patients referred
to for the first time, the Location list on the first day, and every file of every source. Nothing
depends on the wall clock.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa

from journey_demo import appointments, clinics, crm, encounters, patients, relations, surveys, vocab
from journey_demo.fmt import Group
from journey_demo.frames import Frame, Outbox
from journey_demo.model import DAY, ED, HORIZON_DAYS, Params, stream
from journey_demo.writer import DropWriter, FileSpec, Prepared

# NDJSON / JSONL files are written when they have rows (a bulk export omits empty types); the CSVs
# are written every day, with their header, so a quiet day still has a drop from every source.
SPECS: tuple[FileSpec, ...] = (
    FileSpec("ehr/Patient", "Patient.ndjson", "lu", always=False),
    FileSpec("ehr/Location", "Location.ndjson", "loc", always=False),
    FileSpec("ehr/Encounter", "Encounter.ndjson", "lu", always=False, splittable=True),
    FileSpec("ehr/Appointment", "Appointment.ndjson", "lu", always=False),
    FileSpec("ehr/Slot", "Slot.ndjson", None, always=False),
    FileSpec("ehr/QuestionnaireResponse", "QuestionnaireResponse.ndjson", "lu", always=False),
    FileSpec("ehr/Condition", "Condition.ndjson", "lu", always=False),
    FileSpec("crm/campaigns", "campaigns.csv", "key", header=crm.CAMPAIGN_HEADER, always=False),
    FileSpec("crm/touches", "touches.jsonl", "ts", always=False),
    FileSpec("relations/follow_ups", "follow_ups.csv", "lu", header=relations.FOLLOW_UP_HEADER),
    FileSpec("relations/complaints", "complaints.csv", "lu", header=relations.COMPLAINT_HEADER),
    FileSpec("relations/reviews", "reviews.jsonl", "lu", always=False),
)
_PATIENT_REFS = ("ehr/Encounter", "ehr/Appointment", "ehr/QuestionnaireResponse", "ehr/Condition")
_DIGITAL = (0, 1, 2)  # wechat, web, app
_INITIAL_PATIENTS = 40_000


@dataclass
class _Counters:
    """Next index per entity (ids are keyed hashes of these)."""

    values: dict[str, int] = field(default_factory=dict)

    def take(self, name: str, n: int) -> np.ndarray:
        first = self.values.get(name, 0)
        self.values[name] = first + n
        return np.arange(first, first + n, dtype=np.int64)


def _after(frame: Frame, day: int) -> Frame:
    """The rows of a frame sorted by ``cday`` whose clinic day is after ``day`` (a view)."""
    if not len(frame):
        return frame
    return frame.slice(int(np.searchsorted(frame["cday"], day, side="right")), len(frame))


class Hospital:
    """The simulated hospital and its drops."""

    def __init__(self, params: Params, landing: Path) -> None:
        self.p = params
        self.pool = patients.PatientPool(params.seed)
        self.outbox = Outbox()
        self.ids = _Counters()
        self.slots = Frame({})  # every slot of the open clinic days (today .. 8 weeks ahead)
        self.bookings = Frame({})  # every booking of the open clinic days
        self.slot_heads: dict[int, pa.Array] = {}  # static Slot text per clinic day (filled by encoding)
        self._promotion: dict[int, np.ndarray] = {}
        self.recent_ed = np.empty(0, dtype=np.int64)
        self.campaigns = crm.campaign_calendar(
            params.start_day, params.end_day - 1, params.scale, params.seed
        )
        self.writer = DropWriter(landing, params, self._encode)

    # -- the loop --------------------------------------------------------------------------------

    def run(self, on_day: Callable[[int], None] | None = None) -> None:
        """Simulate day after day; a day's files are prepared while the next day is simulated.
        ``on_day`` is called with the number of days simulated so far (for a progress bar)."""
        jobs: list[Future[Prepared]] = []
        try:
            for day in range(self.p.start_day, self.p.end_day):
                self.simulate(day)
                self.writer.finish(jobs)
                jobs = self.flush(day)
                if on_day is not None:
                    on_day(day - self.p.start_day + 1)
            self.writer.finish(jobs)
            self.writer.complete()
        finally:
            self.writer.close()

    def simulate(self, day: int) -> None:
        first = day == self.p.start_day
        if first:
            rng = stream(self.p.seed, "population", day)
            n = max(300, int(round(_INITIAL_PATIENTS * self.p.scale)))
            segments = rng.choice(3, size=n, p=patients.SEGMENT_MIX).astype(np.int8)
            self.pool.create(segments, day, rng, seen=True)
        self._open_clinic_days(range(day, day + HORIZON_DAYS + 1) if first else [day + HORIZON_DAYS], day)
        sampler = self.pool.sampler()
        self._attach_patients(day, sampler, first)
        self._appointments(day, first)
        care = self._care(day, sampler)
        self._experience(day, care)
        self._crm(day, first)
        self.slots = _after(self.slots, day)
        self.bookings = _after(self.bookings, day)
        for old in [d for d in list(self.slot_heads) if d < day - 1]:  # yesterday's drop may need them
            del self.slot_heads[old]

    # -- outpatient ------------------------------------------------------------------------------

    def _open_clinic_days(self, clinic_days: Iterable[int], today: int) -> None:
        """Plan clinic days entering the horizon and attach their new patients and campaigns."""
        slot_parts, booking_parts = [self.slots], [self.bookings]
        for clinic_day in clinic_days:
            slots, bookings = clinics.plan_clinic_day(clinic_day, self.p.scale, self.p.seed)
            rng = stream(self.p.seed, "clinic-people", clinic_day)
            n = len(bookings)
            slots["cday"] = np.full(len(slots), clinic_day)
            slots["crow"] = np.arange(len(slots))
            bookings["cday"] = np.full(n, clinic_day)
            bookings["appt"] = self.ids.take("appointment", n)
            bookings["key"] = slots["key"][bookings["slot"]]
            bookings["patient"] = np.full(n, -1, dtype=np.int64)
            new = np.flatnonzero(bookings["new"])
            bookings["patient"][new] = self.pool.create_for(bookings["dept"][new], today, rng)
            bookings["campaign"] = self._acquisition(bookings, rng)
            bookings["tracked"] = bookings["tracked"] | (bookings["campaign"] >= 0)
            self._put_touches(crm.acquisition_touches(bookings, today * DAY, rng, self.campaigns))
            slot_parts.append(slots)
            booking_parts.append(bookings)
        self.slots = Frame.concat(slot_parts)
        self.bookings = Frame.concat(booking_parts)

    def _acquisition(self, bookings: Frame, rng: np.random.Generator) -> np.ndarray:
        """The campaign that brought each new online booker, if one was running (else -1)."""
        n = len(bookings)
        campaign = np.full(n, -1, dtype=np.int64)
        rows = np.flatnonzero(
            bookings["new"] & np.isin(bookings["channel"], _DIGITAL) & (rng.random(n) < 0.5)
        )
        if not len(rows) or not len(self.campaigns):
            return campaign
        days, inverse = np.unique(bookings["created"][rows] // DAY, return_inverse=True)
        weights = np.stack([self._promotion_weights(int(d)) for d in days])[inverse]
        cdf = np.cumsum(weights, axis=1)
        total = cdf[:, -1]
        pick = (cdf < (rng.random(len(rows)) * total)[:, None]).sum(axis=1)
        campaign[rows] = np.where(total > 0, pick, -1)
        return campaign

    def _promotion_weights(self, day: int) -> np.ndarray:
        if day not in self._promotion:
            self._promotion[day] = crm.promotion_weights(self.campaigns, day)
        return self._promotion[day]

    def _attach_patients(self, day: int, sampler: patients.Sampler, first: bool) -> None:
        """Returning patients for the bookings made today (on the first day: all earlier ones too)."""
        rng = stream(self.p.seed, "bookers", day)
        b = self.bookings
        created_day = b["created"] // DAY
        due = (created_day <= day) if first else (created_day == day)
        rows = np.flatnonzero(due & (b["patient"] < 0))
        b["patient"][rows] = self._returning(b["dept"][rows], day, sampler, rng)

    def _returning(
        self, depts: np.ndarray, day: int, sampler: patients.Sampler, rng: np.random.Generator
    ) -> np.ndarray:
        chosen = sampler.draw(depts, rng)
        missing = np.flatnonzero(chosen < 0)
        chosen[missing] = self.pool.create_for(depts[missing], day, rng)
        return chosen

    def _appointments(self, day: int, first: bool) -> None:
        b = self.bookings
        self.outbox.put_day("ehr/Appointment", appointments.records_for_day(b, day, first_drop=first), day)
        self.outbox.put_day("ehr/Slot", appointments.slot_snapshot(self.slots, b, day), day)
        made_today = b.take(np.flatnonzero(b["created"] // DAY == day))
        self._put_touches(crm.booking_touches(made_today, self.campaigns["key"]))

    # -- ED, inpatient, outpatient visits ------------------------------------------------------------

    def _care(self, day: int, sampler: patients.Sampler) -> Frame:
        rng = stream(self.p.seed, "care", day)
        ed = encounters.simulate_ed(day, self.p.scale, rng, self.recent_ed)
        self.recent_ed = ed["arrival"]
        n_ed = len(ed)
        is_new = rng.random(n_ed) < 0.3
        ed_depts = np.full(n_ed, ED)
        back = np.flatnonzero(~is_new)
        ed["patient"][back] = self._returning(ed_depts[back], day, sampler, rng)
        ed["patient"][is_new] = self.pool.create_for(ed_depts[is_new], day, rng)
        segment = self.pool["segment"][ed["patient"]]
        ed["wait_room"] = (segment == patients.CHILD).astype(np.int64)
        from_ed = encounters.admissions_from_ed(ed, segment == patients.WOMAN, rng)
        elective = encounters.elective_admissions(day, self.p.scale, rng)
        elective["patient"] = self._returning(elective["dept"], day, sampler, rng)
        lo, hi = np.searchsorted(self.bookings["cday"], [day, day + 1]) if len(self.bookings) else (0, 0)
        amb = encounters.outpatient_visits(self.bookings.slice(lo, hi), rng) if hi > lo else Frame({})
        care = Frame.concat([ed, from_ed, elective, amb])
        care["enc"] = self.ids.take("encounter", len(care))
        care["lu"] = care["departure"].copy()
        self.outbox.put("ehr/Encounter", care, care["departure"] // DAY)
        departed_today = care.take(np.flatnonzero(care["departure"] // DAY == day))
        conditions = encounters.conditions_for_day(departed_today, rng, self.ids.values.get("condition", 0))
        if len(conditions):
            self.ids.take("condition", len(conditions))
            self.outbox.put_day("ehr/Condition", conditions, day)
        return care

    def _experience(self, day: int, care: Frame) -> None:
        rng = stream(self.p.seed, "experience", day)
        z = surveys.satisfaction(care, rng)
        self.pool.record_visits(care["patient"], z)
        qr = surveys.surveys(care, z, self.pool, rng)
        qr["qr"] = self.ids.take("qr", len(qr))
        self.outbox.put("ehr/QuestionnaireResponse", qr, qr["authored"] // DAY)
        fu = relations.follow_ups(care, rng)
        fu["fu"] = self.ids.take("follow_up", len(fu)) + 1
        self.outbox.put("relations/follow_ups", fu, fu["lu"] // DAY)
        complaints = relations.complaints(care, z, self.pool, rng)
        complaints["complaint"] = self.ids.take("complaint", len(complaints)) + 1
        self.outbox.put("relations/complaints", complaints, complaints["lu"] // DAY)
        reviews = relations.reviews(care, z, self.pool, rng)
        reviews["review"] = self.ids.take("review", len(reviews))
        self.outbox.put("relations/reviews", reviews, reviews["lu"] // DAY)

    # -- CRM -------------------------------------------------------------------------------------

    def _crm(self, day: int, first: bool) -> None:
        rng = stream(self.p.seed, "crm", day)
        self.outbox.put_day(
            "crm/campaigns", crm.campaigns_for_day(self.campaigns, day, first_drop=first), day
        )
        known = np.flatnonzero((self.pool["landed"] < day) & self.pool["linked"])
        self._put_touches(crm.audience_touches(day, self.p.scale, self.campaigns, known, rng))

    def _put_touches(self, touches: Frame) -> None:
        if len(touches):
            touches["touch"] = self.ids.take("touch", len(touches))
            self.outbox.put("crm/touches", touches, touches["ts"] // DAY)

    # -- writing ---------------------------------------------------------------------------------

    def flush(self, day: int) -> list[Future[Prepared]]:
        """Land today's new patients and start writing the drop of ``day``."""
        due = self.outbox.pop(day)
        due["ehr/Patient"] = self._landing_patients(day, due)
        if day == self.p.start_day:
            due["ehr/Location"] = Frame({"loc": np.arange(len(vocab.ED_LOCATIONS))})
        return self.writer.start_drop(day, [(spec, due.get(spec.key, Frame({}))) for spec in SPECS])

    def _landing_patients(self, day: int, due: dict[str, Frame]) -> Frame:
        """Patients referred to for the first time today, stamped with their earliest reference."""
        refs = [due[k] for k in _PATIENT_REFS if k in due and len(due[k])]
        if not refs:
            return Frame({})
        who = np.concatenate([f["patient"] for f in refs])
        when = np.concatenate([f["lu"] for f in refs])
        fresh = self.pool["landed"][who] > day
        who, when = who[fresh], when[fresh]
        order = np.lexsort((when, who))
        who, when = who[order], when[order]
        first = np.flatnonzero(np.r_[True, who[1:] != who[:-1]]) if len(who) else np.empty(0, np.int64)
        self.pool["landed"][who[first]] = day
        return Frame({"patient": who[first], "lu": when[first]})

    def _encode(self, key: str, f: Frame) -> tuple[list[Group], pa.Array]:
        if key == "ehr/Patient":
            return patients.encode_patients(f, self.pool)
        if key == "ehr/Encounter":
            return encounters.encode_encounters(f, self.pool)
        if key == "ehr/Appointment":
            return appointments.encode_appointments(f)
        if key == "ehr/Slot":
            return appointments.encode_slots(f, self.slot_heads)
        if key == "ehr/QuestionnaireResponse":
            return surveys.encode_surveys(f, self.pool)
        if key == "ehr/Location":
            return encounters.encode_locations(f)
        if key == "ehr/Condition":
            return encounters.encode_conditions(f)
        if key == "crm/campaigns":
            return crm.encode_campaigns(f)
        if key == "crm/touches":
            return crm.encode_touches(f, self.campaigns)
        if key == "relations/follow_ups":
            return relations.encode_follow_ups(f)
        if key == "relations/complaints":
            return relations.encode_complaints(f, self.pool)
        if key == "relations/reviews":
            return relations.encode_reviews(f, self.pool)
        raise KeyError(key)
