"""The demo hospital's fixed parameters: departments, code lists, calendars and random streams.

Everything here is a constant or a pure function of (seed, date): no state, no I/O. Volumes are per day
at ``scale`` 1.0 (a mid-size hospital, about 1,000 encounters a day); the simulation multiplies them.
Times are *local seconds*: seconds since 1970-01-01 00:00 in hospital local time (Asia/Shanghai, UTC+8,
no daylight saving), so a day is ``epoch_day * 86_400`` and FHIR instants carry ``+08:00``.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from datetime import date

import numpy as np

DAY = 86_400
HOUR = 3_600
MINUTE = 60
TZ_OFFSET = "+08:00"
HORIZON_DAYS = 56  # Slot snapshots and bookings look 8 weeks ahead
EPOCH = date(1970, 1, 1)


@dataclass(frozen=True)
class Params:
    """What one generation run was asked for."""

    start_day: int  # epoch day of the first drop
    days: int
    scale: float
    seed: int
    defect_rate: float
    max_rows_per_file: int

    @property
    def end_day(self) -> int:
        """First epoch day after the last drop."""
        return self.start_day + self.days


@dataclass(frozen=True)
class Department:
    """One clinical department: its volumes at scale 1 and how its clinics run."""

    code: str
    name_zh: str
    name_en: str
    outpatient_per_day: float  # week-average fulfilled outpatient visits
    elective_admissions_per_day: float
    los_median_days: float
    slot_minutes: int
    sunday_clinic: bool
    ed_admit_share: float  # share of ED admissions that go to this department
    segment_weights: tuple[float, float, float]  # child, woman 15-49, other adult
    satisfaction_offset: float
    season_amplitude: float


DEPARTMENTS: tuple[Department, ...] = (
    Department("emergency", "急诊科", "Emergency", 0, 0, 0, 0, False, 0.0, (0.6, 1.0, 1.0), -0.2, 0.15),
    Department(
        "internal_medicine",
        "内科",
        "Internal Medicine",
        135,
        2.5,
        5,
        15,
        True,
        0.45,
        (0.0, 0.8, 1.2),
        0.0,
        0.12,
    ),
    Department("surgery", "外科", "Surgery", 70, 4.0, 4, 15, False, 0.30, (0.05, 0.9, 1.1), 0.1, 0.04),
    Department("pediatrics", "儿科", "Pediatrics", 100, 0, 0, 10, True, 0.0, (1.0, 0.0, 0.0), -0.1, 0.25),
    Department("obstetrics", "产科", "Obstetrics", 55, 3.5, 3, 20, False, 0.15, (0.0, 1.0, 0.0), 0.3, 0.03),
    Department("cardiology", "心内科", "Cardiology", 70, 0, 0, 15, False, 0.0, (0.0, 0.4, 1.4), 0.1, 0.08),
    Department("orthopedics", "骨科", "Orthopedics", 65, 0, 0, 15, False, 0.0, (0.2, 0.8, 1.2), 0.0, 0.04),
    Department("dermatology", "皮肤科", "Dermatology", 60, 0, 0, 10, False, 0.0, (0.3, 1.2, 0.9), 0.1, 0.06),
    Department(
        "ophthalmology", "眼科", "Ophthalmology", 60, 0, 0, 10, False, 0.0, (0.3, 0.8, 1.2), 0.2, 0.03
    ),
    Department("oncology", "肿瘤科", "Oncology", 40, 3.0, 6, 20, False, 0.10, (0.01, 0.7, 1.3), 0.2, 0.02),
)
ED = 0
N_DEPTS = len(DEPARTMENTS)
ED_PER_DAY = 300.0

# Code lists. Entries past the contract's list are *unknown codes*, used only by defect injection.
DEPT_CODES = tuple(d.code for d in DEPARTMENTS) + ("radiology_annex", "dept_099", "ICU-3")
DEPT_NAMES_ZH = tuple(d.name_zh for d in DEPARTMENTS) + ("放射科分部", "未知科室", "重症三区")
CLASS_CODES = ("AMB", "EMER", "IMP", "XYZ")
CLASS_DISPLAY = ("ambulatory", "emergency", "inpatient encounter", "unknown")
AMB, EMER, IMP = 0, 1, 2
BOOKING_CHANNELS = ("wechat", "web", "app", "phone", "referral", "walk-in", "fax", "kiosk_v2")
WALK_IN = 5
N_BOOKING_CHANNELS = 6
TOUCH_CHANNELS = (
    "wechat",
    "web",
    "app",
    "search",
    "referral",
    "phone",
    "community_event",
    "walk-in",
    "douyin",
    "unknown_channel",
)
N_TOUCH_CHANNELS = 8
ACTIONS = ("impression", "click", "like", "comment", "share", "save", "booking", "view_v2")
N_ACTIONS = 7
CAMPAIGN_TYPES = (
    "screening_day",
    "health_lecture",
    "livestream",
    "community_clinic",
    "search_ads",
    "social_post",
    "billboard_x",
)
N_CAMPAIGN_TYPES = 6
FOLLOW_UP_OUTCOMES = ("reached", "no_answer", "wrong_number", "declined", "not_attempted", "voicemail")
N_FOLLOW_UP_OUTCOMES = 5
COMPLAINT_CATEGORIES = (
    "waiting",
    "attitude",
    "communication",
    "billing",
    "environment",
    "clinical",
    "other",
    "parking_lot",
)
N_COMPLAINT_CATEGORIES = 7
COMPLAINT_CHANNELS = ("phone", "wechat", "web", "in_person", "letter")
REVIEW_PLATFORMS = ("dianping", "google", "haodf", "wechat", "xiaohongshu")
N_REVIEW_PLATFORMS = 4
APPOINTMENT_STATUSES = ("booked", "fulfilled", "noshow", "cancelled")
BOOKED, FULFILLED, NOSHOW, CANCELLED = 0, 1, 2, 3
CANCEL_REASONS = ("pat", "prov", "other")
SLOT_STATUSES = ("free", "busy", "busy-unavailable")
QR_STATUSES = ("completed", "in-progress", "stopped")
HCAHPS_ITEMS = (
    "nurse_communication",
    "doctor_communication",
    "responsiveness",
    "cleanliness",
    "quietness",
    "discharge_information",
)
HCAHPS_ANSWERS = ("never", "sometimes", "usually", "always")
GENDERS = ("female", "male", "other", "unknown")

# Discharge dispositions: (system, code, display). LWBS is the contract's SNOMED code.
SNOMED = "http://snomed.info/sct"
DISPOSITIONS = (
    (SNOMED, "306689006", "Discharge to home"),
    (SNOMED, "306706006", "Discharge to ward"),
    (SNOMED, "21541000119102", "Left without being seen"),
    (SNOMED, "19712007", "Patient transfer, to another health care facility"),
)
HOME, WARD, LWBS, TRANSFER = 0, 1, 2, 3

# System URLs
DEPT_SYSTEM = "https://journey.example/fhir/CodeSystem/department"
LOCATION_ROLE_SYSTEM = "https://journey.example/fhir/CodeSystem/location-role"
CHANNEL_EXTENSION = "https://journey.example/fhir/StructureDefinition/booking-channel"
QUESTIONNAIRE = "https://journey.example/fhir/Questionnaire/post-visit-survey"
ACT_CODE_SYSTEM = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
RESIDENT_ID_SYSTEM = "urn:oid:2.16.156.10011.1.1"
MRN_SYSTEM = "https://journey.example/fhir/NamingSystem/mrn"

# Hour-of-day and weekday shapes (Monday = 0).
ED_ARRIVAL_BY_HOUR = np.array(
    [
        2.0,
        1.6,
        1.3,
        1.1,
        1.0,
        1.1,
        1.6,
        2.6,
        3.8,
        4.6,
        4.8,
        4.6,
        4.2,
        4.1,
        4.2,
        4.3,
        4.3,
        4.4,
        4.6,
        4.8,
        4.6,
        4.0,
        3.3,
        2.6,
    ]
)
ED_STAFFING_BY_HOUR = np.array([1.10] * 7 + [0.9] * 4 + [1.0] * 7 + [1.2] * 6)  # wait multiplier
ED_WEEKDAY = np.array([1.12, 1.03, 0.99, 0.98, 1.00, 0.95, 0.93])
ED_WAIT_WEEKDAY = np.array([1.15, 1.05, 1.0, 1.0, 1.0, 0.95, 0.95])
_OPD_RAW = np.array([1.18, 1.08, 1.02, 1.00, 0.95, 0.50, 0.25])
OPD_WEEKDAY = _OPD_RAW / _OPD_RAW.mean()
CLINIC_OVERRUN_WEEKDAY = np.array([1.4, 1.1, 1.0, 1.0, 1.0, 0.8, 0.8])
BOOKING_BY_HOUR = np.array(
    [
        0.2,
        0.1,
        0.05,
        0.05,
        0.05,
        0.1,
        0.5,
        1.5,
        2.5,
        3.0,
        3.0,
        2.6,
        2.0,
        2.2,
        2.6,
        2.5,
        2.3,
        2.0,
        1.8,
        2.0,
        2.4,
        2.4,
        1.6,
        0.7,
    ]
)
TOUCH_BY_HOUR = np.array(
    [
        0.6,
        0.3,
        0.15,
        0.1,
        0.1,
        0.2,
        0.5,
        1.2,
        1.8,
        1.6,
        1.5,
        1.6,
        2.2,
        1.8,
        1.5,
        1.5,
        1.6,
        1.8,
        2.0,
        2.6,
        3.0,
        3.2,
        2.8,
        1.6,
    ]
)

# Chinese New Year's Day; the public holiday is the eve plus 6 days.
_SPRING_FESTIVAL = {
    2019: (2, 5),
    2020: (1, 25),
    2021: (2, 12),
    2022: (2, 1),
    2023: (1, 22),
    2024: (2, 10),
    2025: (1, 29),
    2026: (2, 17),
    2027: (2, 6),
    2028: (1, 26),
    2029: (2, 13),
    2030: (2, 3),
    2031: (1, 23),
    2032: (2, 11),
}


def epoch_day(value: date) -> int:
    return (value - EPOCH).days


def weekday(day: int) -> int:
    """Monday = 0 for an epoch day (1970-01-01 was a Thursday)."""
    return (day + 3) % 7


def is_holiday(day: int) -> bool:
    """Mainland public holidays that close most outpatient clinics."""
    d = date.fromordinal(EPOCH.toordinal() + day)
    if (d.month, d.day) == (1, 1) or (d.month == 5 and d.day <= 3) or (d.month == 10 and d.day <= 7):
        return True
    if d.year in _SPRING_FESTIVAL:
        month, dd = _SPRING_FESTIVAL[d.year]
        new_year = epoch_day(date(d.year, month, dd))
        return new_year - 1 <= day <= new_year + 5
    return False


def season(day: int, amplitude: float) -> float:
    """Winter-peaking seasonality (respiratory season), 1 ± amplitude, peak mid-January."""
    doy = date.fromordinal(EPOCH.toordinal() + day).timetuple().tm_yday
    return 1.0 + amplitude * float(np.cos(2 * np.pi * (doy - 15) / 365.25))


def ed_volume(day: int, scale: float) -> float:
    """Expected ED arrivals on an epoch day."""
    holiday = 1.05 if is_holiday(day) else 1.0
    return (
        ED_PER_DAY
        * scale
        * ED_WEEKDAY[weekday(day)]
        * season(day, DEPARTMENTS[ED].season_amplitude)
        * holiday
    )


def opd_demand(day: int, dept: Department, scale: float) -> float:
    """Expected fulfilled outpatient visits for one department on an epoch day."""
    wd = weekday(day)
    if wd == 6 and not dept.sunday_clinic:
        return 0.0
    holiday = 0.35 if is_holiday(day) else 1.0
    return dept.outpatient_per_day * scale * OPD_WEEKDAY[wd] * season(day, dept.season_amplitude) * holiday


def stream(seed: int, name: str, *keys: int) -> np.random.Generator:
    """An independent random stream for (seed, purpose, keys): the same inputs give the same numbers."""
    entropy = [seed & 0xFFFFFFFF, seed >> 32 & 0xFFFFFFFF, zlib.crc32(name.encode())] + [int(k) for k in keys]
    return np.random.default_rng(np.random.SeedSequence(entropy))


def lognormal(rng: np.random.Generator, median: np.ndarray | float, sigma: float, size: int) -> np.ndarray:
    """Log-normal draws with the given median (vectorised over ``median``)."""
    return np.asarray(median) * np.exp(sigma * rng.standard_normal(size))


def hour_times(rng: np.random.Generator, weights: np.ndarray, size: int) -> np.ndarray:
    """Seconds into the day, hour drawn from ``weights`` (24 values), uniform within the hour."""
    hours = categorical(rng, weights, size)
    return hours * HOUR + rng.integers(0, HOUR, size=size)


def categorical(
    rng: np.random.Generator, weights: np.ndarray | list[float] | tuple[float, ...], size: int
) -> np.ndarray:
    """Indices drawn with probabilities proportional to ``weights``."""
    cdf = np.cumsum(np.asarray(weights, dtype=np.float64))
    return np.searchsorted(cdf, rng.random(size) * cdf[-1], side="right").clip(0, len(cdf) - 1)
