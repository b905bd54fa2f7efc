"""Encounters: emergency visits, inpatient stays and outpatient visits, and their FHIR text.

* ED: arrivals follow the hour-of-day curve; triage and door-to-provider waits are log-normal by acuity
  and grow with crowding (arrivals in the previous 3 hours against the expected number), night staffing
  and the weekday; 2-4 % leave without being seen when the wait runs long (SNOMED 21541000119102, no
  ``in-progress``). A few are admitted and become an inpatient stay.
* IMP: elective admissions in the morning and ED admissions; multi-day length of stay by department.
* AMB: one per fulfilled booking, times planned by ``clinics``.

Timestamps are written the two ways real EHRs record them: ``statusHistory`` and ``location[]`` periods on
waiting-room / triage / treatment-room locations, mixed per encounter (ED: 60 % both, 25 % statusHistory
only, 10 % locations only, 5 % ``period`` only). Every encounter lands in the drop of its departure day.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from journey_demo import fmt, vocab
from journey_demo.appointments import appointment_ids
from journey_demo.fmt import Group
from journey_demo.frames import Frame
from journey_demo.model import (
    ACT_CODE_SYSTEM,
    AMB,
    CLASS_CODES,
    CLASS_DISPLAY,
    DAY,
    DEPARTMENTS,
    DEPT_CODES,
    DEPT_NAMES_ZH,
    DEPT_SYSTEM,
    DISPOSITIONS,
    ED,
    ED_ARRIVAL_BY_HOUR,
    ED_STAFFING_BY_HOUR,
    ED_WAIT_WEEKDAY,
    EMER,
    FULFILLED,
    HOME,
    HOUR,
    IMP,
    LOCATION_ROLE_SYSTEM,
    LWBS,
    MINUTE,
    TRANSFER,
    WARD,
    categorical,
    ed_volume,
    hour_times,
    lognormal,
    weekday,
)
from journey_demo.patients import PatientPool, display_names, patient_ids

ENCOUNTER_SALT = 0xE4C0
CONDITION_SALT = 0xC0D1
BOTH, STATUS_HISTORY, LOCATIONS, PERIOD = 0, 1, 2, 3
ED_STYLE_MIX = (0.60, 0.25, 0.10, 0.05)
ESI_MIX = (0.01, 0.10, 0.45, 0.35, 0.09)
_D2P_MEDIAN_MIN = np.array([0, 2, 10, 32, 45, 50], dtype=np.float64)  # by ESI 1-5 (index 0 unused)
_TREAT_MEDIAN_MIN = np.array([0, 180, 160, 120, 90, 60], dtype=np.float64)
_ADMIT_P = np.array([0, 0.7, 0.35, 0.08, 0.02, 0.0])
_CROWD_WINDOW = 3 * HOUR

_CLASS = fmt.vocab(CLASS_CODES)
_CLASS_DISPLAY = fmt.vocab(CLASS_DISPLAY)
_DEPT = fmt.vocab(DEPT_CODES)
_DEPT_ZH = fmt.vocab(DEPT_NAMES_ZH)
_DISP_CODE = fmt.vocab(d[1] for d in DISPOSITIONS)
_DISP_NAME = fmt.vocab(d[2] for d in DISPOSITIONS)
_LOC_ID = fmt.vocab(loc[0] for loc in vocab.ED_LOCATIONS)
_LOC_NAME = fmt.vocab(loc[1] for loc in vocab.ED_LOCATIONS)
_COND_CODE = fmt.vocab(c[0] for c in vocab.CONDITIONS)
_COND_NAME = fmt.vocab(c[1] for c in vocab.CONDITIONS)
_NONE = -1


def encounter_ids(idx: np.ndarray) -> pa.StringArray:
    return fmt.hex_ids(idx, ENCOUNTER_SALT)


def _blank(n: int) -> np.ndarray:
    return np.full(n, _NONE, dtype=np.int64)


def simulate_ed(day: int, scale: float, rng: np.random.Generator, recent: np.ndarray) -> Frame:
    """Today's ED visits (without patients). ``recent`` = yesterday's arrival times, for crowding."""
    n = int(rng.poisson(ed_volume(day, scale)))
    arrival = np.sort(day * DAY + hour_times(rng, ED_ARRIVAL_BY_HOUR, n))
    history = np.concatenate([recent, arrival])
    load = np.searchsorted(history, arrival, "right") - np.searchsorted(history, arrival - _CROWD_WINDOW)
    expected = ed_volume(day, scale) * _CROWD_WINDOW / DAY
    crowd = ((load + 2.0) / (expected + 2.0)) ** 0.9
    esi = categorical(rng, ESI_MIX, n) + 1
    hour = (arrival % DAY) // HOUR
    staffing = ED_STAFFING_BY_HOUR[hour] * ED_WAIT_WEEKDAY[weekday(day)]
    to_triage = np.where(esi == 1, 60, lognormal(rng, 6.0, 0.5, n) * np.sqrt(crowd) * MINUTE)
    triage = arrival + to_triage.astype(np.int64)
    crowd_effect = np.where(esi <= 2, crowd**0.3, crowd)
    to_provider = lognormal(rng, _D2P_MEDIAN_MIN[esi], 0.7, n) * crowd_effect * staffing * MINUTE
    provider = triage + np.maximum(to_provider, 60).astype(np.int64)
    wait = provider - arrival
    p_leave = np.where(esi >= 3, 0.5 * (1 - np.exp(-np.maximum(wait / MINUTE - 60, 0) / 240)), 0.0)
    lwbs = rng.random(n) < p_leave
    triage_end = np.minimum(triage + (lognormal(rng, 5.0, 0.4, n) * MINUTE).astype(np.int64), provider)
    left_at = np.maximum(
        arrival + (wait * rng.uniform(0.5, 0.95, n)).astype(np.int64), triage_end + 5 * MINUTE
    )
    admitted = ~lwbs & (rng.random(n) < _ADMIT_P[esi])
    transfer = ~lwbs & ~admitted & (rng.random(n) < 0.01)
    treat = lognormal(rng, _TREAT_MEDIAN_MIN[esi], 0.6, n) * MINUTE
    boarding = np.where(admitted, lognormal(rng, 90.0, 0.7, n) * MINUTE, 0)
    departure = np.where(lwbs, left_at, provider + (treat + boarding).astype(np.int64))
    disposition = np.select([lwbs, admitted, transfer], [LWBS, WARD, TRANSFER], HOME)
    disposition = np.where(~lwbs & (rng.random(n) < 0.05), _NONE, disposition)
    return Frame(
        {
            "patient": _blank(n),
            "dept": np.full(n, ED),
            "cls": np.full(n, EMER),
            "arrival": arrival,
            "triage": triage,
            "provider": np.where(lwbs, _NONE, provider),
            "departure": departure,
            "triage_end": triage_end,
            "style": categorical(rng, ED_STYLE_MIX, n),
            "disposition": disposition,
            "appt": _blank(n),
            "wait_room": np.zeros(n, np.int64),
            "desk": rng.integers(0, 2, n),
            "bay": rng.integers(0, vocab.N_BAYS, n),
            "display": rng.random(n) < 0.4,
            "lwbs": lwbs,
            "admitted": admitted,
            "wait_min": np.where(lwbs, left_at - arrival, wait) / MINUTE,
        }
    )


def _inpatient(
    depts: np.ndarray, admission: np.ndarray, wait_min: np.ndarray, rng: np.random.Generator
) -> Frame:
    n = len(depts)
    los_median = np.array([max(d.los_median_days, 1.0) for d in DEPARTMENTS])[depts]
    los_days = np.maximum(1, np.round(lognormal(rng, los_median, 0.5, n))).astype(np.int64)
    discharge = (admission // DAY + los_days) * DAY + rng.integers(10 * HOUR, 16 * HOUR, n)
    bed = admission + (lognormal(rng, 40.0, 0.6, n) * MINUTE).astype(np.int64)
    bed = np.minimum(bed, discharge - HOUR)
    disposition = np.where(rng.random(n) < 0.03, TRANSFER, HOME)
    return Frame(
        {
            "patient": _blank(n),
            "dept": depts,
            "cls": np.full(n, IMP),
            "arrival": admission,
            "triage": _blank(n),
            "provider": bed,
            "departure": discharge,
            "triage_end": _blank(n),
            "style": np.where(rng.random(n) < 0.7, STATUS_HISTORY, PERIOD),
            "disposition": disposition,
            "appt": _blank(n),
            "wait_room": np.zeros(n, np.int64),
            "desk": np.zeros(n, np.int64),
            "bay": np.zeros(n, np.int64),
            "display": rng.random(n) < 0.4,
            "lwbs": np.zeros(n, bool),
            "admitted": np.zeros(n, bool),
            "wait_min": wait_min + (bed - admission) / MINUTE,
        }
    )


def admissions_from_ed(ed: Frame, can_deliver: np.ndarray, rng: np.random.Generator) -> Frame:
    """Inpatient stays of the admitted ED patients, starting when they leave the ED.

    ``can_deliver`` says which ED patients may go to obstetrics (women of childbearing age).
    """
    rows = np.flatnonzero(ed["admitted"])
    shares = np.array([d.ed_admit_share for d in DEPARTMENTS])
    obstetrics = [d.code for d in DEPARTMENTS].index("obstetrics")
    other = shares.copy()
    other[obstetrics] = 0.0
    dept = np.where(
        can_deliver[rows], categorical(rng, shares, len(rows)), categorical(rng, other, len(rows))
    )
    stays = _inpatient(dept, ed["departure"][rows], ed["wait_min"][rows], rng)
    stays["patient"] = ed["patient"][rows]
    return stays


def elective_admissions(day: int, scale: float, rng: np.random.Generator) -> Frame:
    """Planned admissions of the day (weekdays mostly), by department."""
    factor = 1.2 if weekday(day) < 5 else 0.5
    counts = rng.poisson([d.elective_admissions_per_day * scale * factor for d in DEPARTMENTS])
    depts = np.repeat(np.arange(len(DEPARTMENTS)), counts)
    admission = day * DAY + rng.integers(8 * HOUR, 12 * HOUR, len(depts))
    return _inpatient(depts, admission, lognormal(rng, 20.0, 0.5, len(depts)), rng)


def outpatient_visits(bookings: Frame, rng: np.random.Generator) -> Frame:
    """One AMB encounter per fulfilled booking of the day."""
    rows = np.flatnonzero(bookings["outcome"] == FULFILLED)
    b = bookings.take(rows)
    n = len(rows)
    return Frame(
        {
            "patient": b["patient"],
            "dept": b["dept"],
            "cls": np.full(n, AMB),
            "arrival": b["arrival"],
            "triage": _blank(n),
            "provider": b["seen"],
            "departure": b["departure"],
            "triage_end": _blank(n),
            "style": np.where(rng.random(n) < 0.8, STATUS_HISTORY, PERIOD),
            "disposition": _blank(n),
            "appt": b["appt"],
            "wait_room": np.zeros(n, np.int64),
            "desk": np.zeros(n, np.int64),
            "bay": np.zeros(n, np.int64),
            "display": rng.random(n) < 0.4,
            "lwbs": np.zeros(n, bool),
            "admitted": np.zeros(n, bool),
            "wait_min": (b["seen"] - b["arrival"]) / MINUTE,
        }
    )


# -- FHIR text ------------------------------------------------------------------------------------


def _status_history(f: Frame, ts: dict[str, pa.Array]) -> fmt.Seg:
    style = f["style"]
    has = (style == BOTH) | (style == STATUS_HISTORY)
    triaged = has & (f["triage"] >= 0)
    seen = has & (f["provider"] >= 0)
    arrived_end = fmt.when(
        f["triage"] >= 0, ts["triage"], fmt.when(f["provider"] >= 0, ts["provider"], ts["departure"])
    )
    after_triage = fmt.when(f["provider"] >= 0, ts["provider"], ts["departure"])
    items = [
        fmt.when(
            has,
            fmt.concat_text(
                ',{"status":"arrived","period":{"start":"', ts["arrival"], '","end":"', arrived_end, '"}}'
            ),
        ),
        fmt.when(
            triaged,
            fmt.concat_text(
                ',{"status":"triaged","period":{"start":"', ts["triage"], '","end":"', after_triage, '"}}'
            ),
        ),
        fmt.when(
            seen,
            fmt.concat_text(
                ',{"status":"in-progress","period":{"start":"',
                ts["provider"],
                '","end":"',
                ts["departure"],
                '"}}',
            ),
        ),
        fmt.when(has, fmt.concat_text(',{"status":"finished","period":{"start":"', ts["departure"], '"}}')),
    ]
    return fmt.when(has, fmt.concat_text(',"statusHistory":[', fmt.json_list(items), "]"))


def _location_item(loc: np.ndarray, start: pa.Array, end: pa.Array) -> pa.Array:
    return fmt.concat_text(
        ',{"location":{"reference":"Location/',
        fmt.take(_LOC_ID, loc),
        '","display":"',
        fmt.take(_LOC_NAME, loc),
        '"},"status":"completed","period":{"start":"',
        start,
        '","end":"',
        end,
        '"}}',
    )


def _locations(f: Frame, ts: dict[str, pa.Array]) -> fmt.Seg:
    style = f["style"]
    has = (f["cls"] == EMER) & ((style == BOTH) | (style == LOCATIONS)) & (f["triage"] >= 0)
    if not has.any():
        return ""
    seen = f["provider"] >= 0
    until = np.where(seen, f["provider"], f["departure"])
    after_triage = fmt.when(seen, ts["provider"], ts["departure"])
    wait_room = f["wait_room"]
    items = [
        _location_item(wait_room, ts["arrival"], ts["triage"]),
        _location_item(vocab.N_WAITING + f["desk"], ts["triage"], ts["triage_end"]),
        fmt.when(until > f["triage_end"], _location_item(wait_room, ts["triage_end"], after_triage)),
        fmt.when(
            seen, _location_item(vocab.N_WAITING + vocab.N_TRIAGE + f["bay"], ts["provider"], ts["departure"])
        ),
    ]
    return fmt.when(has, fmt.concat_text(',"location":[', fmt.json_list(items), "]"))


def encode_encounters(f: Frame, pool: PatientPool) -> tuple[list[Group], pa.Array]:
    ids = encounter_ids(f["enc"])
    names = ("arrival", "triage", "provider", "departure", "triage_end", "lu")
    ts = dict(zip(names, fmt.instants(*(np.maximum(f[name], 0) for name in names)), strict=True))
    disp = np.maximum(f["disposition"], 0)
    pids = patient_ids(f["patient"])
    display = f["display"]
    shown: fmt.Seg = ""
    if display.any():
        shown = fmt.when(display, fmt.concat_text(',"display":"', display_names(pool, f["patient"]), '"'))
    groups: list[Group] = [
        ("resourceType", ['{"resourceType":"Encounter"']),
        ("id", [',"id":"', ids, '"']),
        ("meta", [',"meta":{"lastUpdated":"', ts["lu"], '"}']),
        ("status", [',"status":"finished"']),
        ("statusHistory", [_status_history(f, ts)]),
        (
            "class",
            [
                ',"class":{"system":"',
                ACT_CODE_SYSTEM,
                '","code":"',
                fmt.take(_CLASS, f["cls"]),
                '","display":"',
                fmt.take(_CLASS_DISPLAY, f["cls"]),
                '"}',
            ],
        ),
        (
            "serviceType",
            [
                ',"serviceType":{"coding":[{"system":"',
                DEPT_SYSTEM,
                '","code":"',
                fmt.take(_DEPT, f["dept"]),
                '","display":"',
                fmt.take(_DEPT_ZH, f["dept"]),
                '"}]}',
            ],
        ),
        ("subject", [',"subject":{"reference":"Patient/', pids, '"', shown, "}"]),
        ("period", [',"period":{"start":"', ts["arrival"], '","end":"', ts["departure"], '"}']),
        (
            "appointment",
            [
                fmt.when(
                    f["appt"] >= 0,
                    fmt.concat_text(
                        ',"appointment":[{"reference":"Appointment/',
                        appointment_ids(np.maximum(f["appt"], 0)),
                        '"}]',
                    ),
                )
            ],
        ),
        ("location", [_locations(f, ts)]),
        (
            "hospitalization",
            [
                fmt.when(
                    f["disposition"] >= 0,
                    fmt.concat_text(
                        ',"hospitalization":{"dischargeDisposition":{"coding":[{"system":"',
                        DISPOSITIONS[0][0],
                        '","code":"',
                        fmt.take(_DISP_CODE, disp),
                        '","display":"',
                        fmt.take(_DISP_NAME, disp),
                        '"}]}}',
                    ),
                )
            ],
        ),
        ("close", ["}"]),
    ]
    return groups, ids


def encode_locations(frame: Frame) -> tuple[list[Group], pa.Array]:
    """The ED's Location resources; some carry no role coding (the role is in the id/display)."""
    idx = frame["loc"]
    roles = [loc[2] for loc in vocab.ED_LOCATIONS]
    has_role = np.array([bool(r) for r in roles])[idx]
    role = fmt.take(fmt.vocab(r or "none" for r in roles), idx)
    ids = fmt.take(_LOC_ID, idx)
    groups: list[Group] = [
        ("resourceType", ['{"resourceType":"Location"']),
        ("id", [',"id":"', ids, '"']),
        ("status", [',"status":"active"']),
        ("name", [',"name":"', fmt.take(_LOC_NAME, idx), '"']),
        (
            "type",
            [
                fmt.when(
                    has_role,
                    fmt.concat_text(
                        ',"type":[{"coding":[{"system":"', LOCATION_ROLE_SYSTEM, '","code":"', role, '"}]}]'
                    ),
                )
            ],
        ),
        ("managingOrganization", [',"managingOrganization":{"reference":"Organization/hospital-main"}}']),
    ]
    return groups, ids


def conditions_for_day(encounters: Frame, rng: np.random.Generator, next_index: int) -> Frame:
    """A few Condition resources (a type journey does not use) for some of the day's encounters."""
    if not len(encounters) or rng.random() > 0.35:
        return Frame({})
    k = min(len(encounters), 1 + int(rng.poisson(3)))
    rows = np.sort(rng.choice(len(encounters), size=k, replace=False))
    return Frame(
        {
            "cond": np.arange(next_index, next_index + k),
            "enc": encounters["enc"][rows],
            "patient": encounters["patient"][rows],
            "code": rng.integers(0, len(vocab.CONDITIONS), k),
            "lu": encounters["departure"][rows],
        }
    )


def encode_conditions(frame: Frame) -> tuple[list[Group], pa.Array]:
    ids = fmt.hex_ids(frame["cond"], CONDITION_SALT)
    code = frame["code"]
    groups: list[Group] = [
        ("resourceType", ['{"resourceType":"Condition"']),
        ("id", [',"id":"', ids, '"']),
        ("meta", [',"meta":{"lastUpdated":"', fmt.instant(frame["lu"]), '"}']),
        (
            "clinicalStatus",
            [
                ',"clinicalStatus":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/'
                'condition-clinical","code":"active"}]}'
            ],
        ),
        (
            "code",
            [
                ',"code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10","code":"',
                fmt.take(_COND_CODE, code),
                '","display":"',
                fmt.take(_COND_NAME, code),
                '"}]}',
            ],
        ),
        ("subject", [',"subject":{"reference":"Patient/', patient_ids(frame["patient"]), '"}']),
        ("encounter", [',"encounter":{"reference":"Encounter/', encounter_ids(frame["enc"]), '"}']),
        ("recordedDate", [',"recordedDate":"', fmt.instant(frame["lu"]), '"}']),
    ]
    return groups, ids
