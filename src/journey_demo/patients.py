"""The patient population: who exists, who comes back, and what their Patient resource says.

The pool starts with the hospital's existing patients (known to the EHR but not yet in any drop) and
grows with new ones. Every patient has a return weight; a visit multiplies it by a factor that grows
with satisfaction, so satisfied patients come back more. A patient's Patient resource lands in the
drop of the first day any EHR record refers to them, with real-looking PII (Chinese or English names,
11-digit mobile, 18-character resident ID with a valid check character, Shanghai address). All PII is
drawn as indices when the patient is created and only turned into text when it lands.
"""

from __future__ import annotations

from functools import cached_property

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from journey_demo import fmt, vocab
from journey_demo.fmt import Group
from journey_demo.frames import Columns, Frame
from journey_demo.model import (
    DEPARTMENTS,
    GENDERS,
    MRN_SYSTEM,
    RESIDENT_ID_SYSTEM,
    categorical,
)

NOT_LANDED = np.iinfo(np.int32).max
CHILD, WOMAN, OTHER = 0, 1, 2
SEGMENT_MIX = np.array([0.18, 0.25, 0.57])
SEGMENT_WEIGHTS = np.array([d.segment_weights for d in DEPARTMENTS])
PATIENT_SALT = 0x5A17E47
_PHONE_MULT = 73_939_133  # odd and not a multiple of 5: a bijection modulo 10**8
_ID_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2])
_ID_CHECK = np.frombuffer(b"10X98765432", dtype=np.uint8)
_N_FEMALE = len(vocab.GIVEN_FEMALE)
_N_MALE = len(vocab.GIVEN_MALE)

_POOL_DTYPES: dict[str, type] = {
    "segment": np.int8,
    "gender": np.int8,
    "birth_day": np.int32,
    "district": np.int16,
    "weight": np.float64,
    "base_weight": np.float64,
    "seen": np.bool_,
    "landed": np.int32,
    "linked": np.bool_,
    "english": np.bool_,
    "sur": np.int16,
    "g1": np.int16,
    "g2": np.int16,
    "en_first": np.int16,
    "en_last": np.int16,
    "phone": np.int64,
    "id_seq": np.int16,
    "email_kind": np.int8,
    "email_num": np.int64,
    "email_domain": np.int8,
    "street": np.int16,
    "house_no": np.int16,
    "lane_no": np.int16,
    "room": np.int16,
    "has_district": np.bool_,
    "contact": np.bool_,
    "contact_sur": np.int16,
    "contact_given": np.int16,
    "contact_phone": np.int64,
}


def patient_ids(idx: np.ndarray) -> pa.StringArray:
    return fmt.hex_ids(idx, PATIENT_SALT)


class PatientPool:
    """Everyone the hospital knows, as growable columns indexed by patient number."""

    def __init__(self, seed: int) -> None:
        self.cols = Columns(_POOL_DTYPES)
        self._phone_offset = (seed * 2_654_435_761) % 10**8

    def __len__(self) -> int:
        return self.cols.n

    def __getitem__(self, name: str) -> np.ndarray:
        return self.cols[name]

    def create(self, segments: np.ndarray, day: int, rng: np.random.Generator, *, seen: bool) -> np.ndarray:
        """Add patients of the given segments; ``seen`` patients can be drawn as returning at once."""
        n = len(segments)
        if n == 0:
            return np.empty(0, dtype=np.int64)
        idx = np.arange(self.cols.n, self.cols.n + n, dtype=np.int64)
        cols = _demographics(segments, day, rng)
        cols.update(_identity(idx, cols["gender"], rng, self._phone_offset))
        base = np.exp(0.8 * rng.standard_normal(n))
        cols.update(
            base_weight=base,
            weight=np.where(seen, base, 0.0),
            seen=np.full(n, seen),
            landed=np.full(n, NOT_LANDED),
            linked=rng.random(n) < 0.55,
        )
        return self.cols.append(cols)

    def create_for(self, depts: np.ndarray, day: int, rng: np.random.Generator) -> np.ndarray:
        """New patients who fit each row's department (children for pediatrics, women for obstetrics)."""
        probs = SEGMENT_WEIGHTS[depts] * SEGMENT_MIX
        cum = np.cumsum(probs / probs.sum(axis=1, keepdims=True), axis=1)
        segments = (rng.random(len(depts))[:, None] > cum).sum(axis=1).clip(0, 2).astype(np.int8)
        return self.create(segments, day, rng, seen=False)

    def record_visits(self, patients: np.ndarray, satisfaction: np.ndarray) -> None:
        """After a visit: satisfied patients become likelier to return, dissatisfied ones less."""
        if not len(patients):
            return
        data = self.cols
        weight = data["weight"]
        current = np.where(data["seen"][patients], weight[patients], data["base_weight"][patients])
        weight[patients] = np.clip(current * np.exp(0.35 * np.clip(satisfaction, -2.5, 2.5)), 0.02, 40.0)
        data["seen"][patients] = True

    def sampler(self) -> Sampler:
        return Sampler(self)


class Sampler:
    """Draws returning patients by weight, restricted to the segments a department sees."""

    def __init__(self, pool: PatientPool) -> None:
        weight = pool["weight"] * pool["seen"]
        segment = pool["segment"]
        self.members = [np.flatnonzero((segment == s) & (weight > 0)) for s in range(3)]
        self.cumulative = [np.cumsum(weight[m]) for m in self.members]
        self.totals = np.array([c[-1] if len(c) else 0.0 for c in self.cumulative])

    def draw(self, depts: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """One patient per row (``-1`` where no eligible patient exists yet)."""
        n = len(depts)
        out = np.full(n, -1, dtype=np.int64)
        probs = SEGMENT_WEIGHTS[depts] * self.totals
        row_total = probs.sum(axis=1)
        ok = row_total > 0
        cum = np.cumsum(probs, axis=1) / np.where(ok, row_total, 1.0)[:, None]
        segments = (rng.random(n)[:, None] > cum).sum(axis=1).clip(0, 2)
        u = rng.random(n)
        for s in range(3):
            rows = np.flatnonzero(ok & (segments == s))
            if len(rows) and self.totals[s] > 0:
                pos = np.searchsorted(self.cumulative[s], u[rows] * self.totals[s], side="right")
                out[rows] = self.members[s][np.minimum(pos, len(self.members[s]) - 1)]
        return out


def _demographics(segments: np.ndarray, day: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    n = len(segments)
    male_other = rng.random(n) < 0.7
    age_years = np.select(
        [segments == CHILD, segments == WOMAN, male_other],
        [rng.uniform(0, 15, n), rng.uniform(15, 50, n), 15 + 75 * rng.beta(1.8, 2.0, n)],
        50 + 40 * rng.beta(1.5, 2.5, n),
    )
    gender = np.select(
        [segments == CHILD, segments == WOMAN, male_other],
        [rng.integers(0, 2, n), np.zeros(n, np.int64), np.ones(n, np.int64)],
        0,
    )
    gender = np.where(rng.random(n) < 0.003, rng.integers(2, 4, n), gender)
    weights = [d[4] for d in vocab.DISTRICTS]
    return {
        "segment": segments,
        "gender": gender,
        "birth_day": (day - age_years * 365.25).astype(np.int64),
        "district": categorical(rng, weights, n),
    }


def _identity(
    idx: np.ndarray, gender: np.ndarray, rng: np.random.Generator, phone_offset: int
) -> dict[str, np.ndarray]:
    n = len(idx)
    female = gender != 1
    sur_w = np.array([s[2] for s in vocab.SURNAMES])
    g1 = np.where(female, rng.integers(0, _N_FEMALE, n), _N_FEMALE + rng.integers(0, _N_MALE, n))
    g2 = np.where(
        rng.random(n) < 0.6,
        np.where(female, rng.integers(0, _N_FEMALE, n), _N_FEMALE + rng.integers(0, _N_MALE, n)),
        -1,
    )
    english = rng.random(n) < 0.06
    prefixes = np.array(vocab.PHONE_PREFIXES, dtype=np.int64)
    tail = (idx * _PHONE_MULT + phone_offset) % 10**8
    prefix = (fmt.mix64(idx, 0xF0E1) % np.uint64(len(prefixes))).astype(np.int64)
    phone = prefixes[prefix] * 10**8 + tail
    email_kind = np.where(rng.random(n) < 0.35, rng.integers(0, 2, n), -1)
    lane = np.where(rng.random(n) < 0.6, rng.integers(1, 1200, n), 0)
    return {
        "english": english,
        "sur": categorical(rng, sur_w, n),
        "g1": g1,
        "g2": g2,
        "en_first": rng.integers(0, len(vocab.EN_FIRST_FEMALE), n),
        "en_last": rng.integers(0, len(vocab.EN_LAST), n),
        "phone": phone,
        "id_seq": rng.integers(0, 500, n) * 2 + (gender == 1),
        "email_kind": email_kind,
        "email_num": np.where(
            email_kind == 0, rng.integers(100_000, 3_999_999_999, n), rng.integers(1, 9999, n)
        ),
        "email_domain": rng.integers(1, len(vocab.EMAIL_DOMAINS), n),
        "street": rng.integers(0, len(vocab.STREETS), n),
        "house_no": rng.integers(1, 999, n),
        "lane_no": lane,
        "room": rng.integers(1, 31, n) * 100 + rng.integers(1, 7, n),
        "has_district": rng.random(n) < 0.95,
        "contact": rng.random(n) < 0.2,
        "contact_sur": categorical(rng, sur_w, n),
        "contact_given": rng.integers(0, _N_FEMALE + _N_MALE, n),
        "contact_phone": prefixes[rng.integers(0, len(prefixes), n)] * 10**8 + rng.integers(0, 10**8, n),
    }


# -- text -----------------------------------------------------------------------------------------

_SUR_ZH = fmt.vocab(s[0] for s in vocab.SURNAMES)
_SUR_PY = fmt.vocab(s[1] for s in vocab.SURNAMES)
_GIVEN = vocab.GIVEN_FEMALE + vocab.GIVEN_MALE
_GIVEN_ZH = fmt.vocab([""] + [g[0] for g in _GIVEN])
_GIVEN_PY = fmt.vocab([""] + [g[1] for g in _GIVEN])
_GIVEN_PY_CAP = fmt.vocab([""] + [g[1].capitalize() for g in _GIVEN])
_EN_FIRST = (fmt.vocab(vocab.EN_FIRST_FEMALE), fmt.vocab(vocab.EN_FIRST_MALE))
_EN_LAST = fmt.vocab(vocab.EN_LAST)
_CITY = fmt.vocab(d[0] for d in vocab.DISTRICTS)
_DISTRICT = fmt.vocab(d[1] for d in vocab.DISTRICTS)
_POSTAL = fmt.vocab(d[3] for d in vocab.DISTRICTS)
_STREET = fmt.vocab(vocab.STREETS)
_DOMAIN = fmt.vocab(vocab.EMAIL_DOMAINS)
_GENDER = fmt.vocab(GENDERS)


class PatientText:
    """The text forms of some patients' PII (each built on first use)."""

    def __init__(self, pool: PatientPool, patients: np.ndarray) -> None:
        self.pool = pool
        self.p = patients
        self.english = pool["english"][patients]
        self.email_kind = pool["email_kind"][patients]

    def _col(self, name: str) -> np.ndarray:
        return self.pool[name][self.p]

    @cached_property
    def en_first(self) -> pa.Array:
        first = self._col("en_first")
        return fmt.when(
            self._col("gender") == 1, fmt.take(_EN_FIRST[1], first), fmt.take(_EN_FIRST[0], first)
        )

    @cached_property
    def en_last(self) -> pa.Array:
        return fmt.take(_EN_LAST, self._col("en_last"))

    @cached_property
    def zh_family(self) -> pa.Array:
        return fmt.take(_SUR_ZH, self._col("sur"))

    @cached_property
    def zh_given(self) -> pa.Array:
        return fmt.concat_text(
            fmt.take(_GIVEN_ZH, self._col("g1") + 1), fmt.take(_GIVEN_ZH, self._col("g2") + 1)
        )

    @cached_property
    def py_family(self) -> pa.Array:
        return fmt.take(_SUR_PY, self._col("sur"))

    @cached_property
    def py_given(self) -> pa.Array:
        return fmt.concat_text(
            fmt.take(_GIVEN_PY_CAP, self._col("g1") + 1), fmt.take(_GIVEN_PY, self._col("g2") + 1)
        )

    @cached_property
    def name_zh(self) -> pa.Array:
        return fmt.concat_text(self.zh_family, self.zh_given)

    @cached_property
    def name_en(self) -> fmt.Seg:
        """English name, or the pinyin of the Chinese one."""
        return fmt.when(
            self.english,
            fmt.concat_text(self.en_first, " ", self.en_last),
            fmt.concat_text(self.py_given, " ", self.py_family),
        )

    @cached_property
    def display(self) -> fmt.Seg:
        return fmt.when(self.english, self.name_en, self.name_zh)

    @cached_property
    def phone(self) -> pa.Array:
        return fmt.int_str(self._col("phone"))

    @cached_property
    def email(self) -> fmt.Seg:
        num = fmt.int_str(self._col("email_num"))
        named = fmt.sparse(self.email_kind == 1, self._named_email, "")
        return fmt.when(self.email_kind == 0, fmt.concat_text(num, "@qq.com"), named)

    def _named_email(self, rows: np.ndarray) -> pa.Array:
        sub = PatientText(self.pool, self.p[rows])
        local = fmt.when(
            sub.english,
            fmt.concat_text(sub.en_first, ".", sub.en_last),
            fmt.concat_text(sub.py_family, sub.py_given),
        )
        return fmt.concat_text(
            pc.ascii_lower(local),
            fmt.int_str(sub._col("email_num")),
            "@",
            fmt.take(_DOMAIN, sub._col("email_domain")),
        )

    @cached_property
    def national_id(self) -> pa.Array:
        return _resident_id(self.pool, self.p)


def _resident_id(pool: PatientPool, p: np.ndarray) -> pa.Array:
    """18-character resident ID: region code, birth date, sequence (odd = male), ISO 7064 check."""
    n = len(p)
    mat = np.empty((n, 18), dtype=np.uint8)
    codes = np.array([int(d[2]) for d in vocab.DISTRICTS], dtype=np.int64)
    year, month, dom = fmt.civil(pool["birth_day"][p])
    fmt.put_digits(mat, 0, codes[pool["district"][p]], 6)
    fmt.put_digits(mat, 6, year * 10_000 + month * 100 + dom, 8)
    fmt.put_digits(mat, 14, pool["id_seq"][p], 3)
    checksum = ((mat[:, :17].astype(np.int64) - 48) * _ID_WEIGHTS).sum(axis=1) % 11
    mat[:, 17] = _ID_CHECK[checksum]
    return fmt.from_matrix(mat)


def address_line(pool: PatientPool, p: np.ndarray) -> pa.Array:
    lane = pool["lane_no"][p]
    return fmt.concat_text(
        fmt.take(_STREET, pool["street"][p]),
        fmt.when(lane > 0, fmt.concat_text(fmt.int_str(lane), "弄")),
        fmt.int_str(pool["house_no"][p]),
        "号",
        fmt.int_str(pool["room"][p]),
        "室",
    )


def _contact_name(pool: PatientPool, p: np.ndarray) -> pa.Array:
    return fmt.concat_text(
        fmt.take(_SUR_ZH, pool["contact_sur"][p]), fmt.take(_GIVEN_ZH, pool["contact_given"][p] + 1)
    )


def encode_patients(frame: Frame, pool: PatientPool) -> tuple[list[Group], pa.Array]:
    """Patient resources for ``frame["patient"]`` with ``frame["lu"]`` as meta.lastUpdated."""
    p = frame["patient"]
    text = PatientText(pool, p)
    ids = patient_ids(p)
    mrn = fmt.digits(p + 1, 9, "MRN")
    english = text.english
    name_zh = fmt.concat_text(
        '{"use":"official","text":"',
        text.name_zh,
        '","family":"',
        text.zh_family,
        '","given":["',
        text.zh_given,
        '"]},{"use":"usual","text":"',
        text.name_en,
        '","family":"',
        text.py_family,
        '","given":["',
        text.py_given,
        '"]}',
    )
    name_en = fmt.concat_text(
        '{"use":"official","text":"',
        text.name_en,
        '","family":"',
        text.en_last,
        '","given":["',
        text.en_first,
        '"]}',
    )
    district = pool["district"][p]
    has_district = pool["has_district"][p]
    contact = pool["contact"][p]
    groups: list[Group] = [
        ("resourceType", ['{"resourceType":"Patient"']),
        ("id", [',"id":"', ids, '"']),
        ("meta", [',"meta":{"lastUpdated":"', fmt.instant(frame["lu"]), '"}']),
        (
            "identifier",
            [
                ',"identifier":[{"use":"official","type":{"text":"居民身份证"},"system":"',
                RESIDENT_ID_SYSTEM,
                '","value":"',
                text.national_id,
                '"},{"use":"usual","system":"',
                MRN_SYSTEM,
                '","value":"',
                mrn,
                '"}]',
            ],
        ),
        ("active", [',"active":true']),
        ("name", [',"name":[', fmt.when(english, name_en, name_zh), "]"]),
        (
            "telecom",
            [
                ',"telecom":[{"system":"phone","value":"',
                text.phone,
                '","use":"mobile"}',
                fmt.when(
                    text.email_kind >= 0, fmt.concat_text(',{"system":"email","value":"', text.email, '"}')
                ),
                "]",
            ],
        ),
        ("gender", [',"gender":"', fmt.take(_GENDER, pool["gender"][p]), '"']),
        ("birthDate", [',"birthDate":"', fmt.date_str(pool["birth_day"][p]), '"']),
        (
            "address",
            [
                ',"address":[{"use":"home","line":["',
                address_line(pool, p),
                '"],"city":"',
                fmt.take(_CITY, district),
                '"',
                fmt.when(has_district, fmt.concat_text(',"district":"', fmt.take(_DISTRICT, district), '"')),
                ',"postalCode":"',
                fmt.take(_POSTAL, district),
                '","country":"CN"}]',
            ],
        ),
        (
            "contact",
            [
                fmt.when(
                    contact,
                    fmt.concat_text(
                        ',"contact":[{"relationship":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v2-0131",'
                        '"code":"N","display":"Next-of-Kin"}]}],"name":{"text":"',
                        _contact_name(pool, p),
                        '"},"telecom":[{"system":"phone","value":"',
                        fmt.int_str(pool["contact_phone"][p]),
                        '"}]}]',
                    ),
                )
            ],
        ),
        ("end", ["}"]),
    ]
    return groups, ids


def identities(pool: PatientPool) -> pa.Table:
    """The planted PII of every patient that landed, for privacy tests to scan the warehouse for."""
    p = np.flatnonzero(pool["landed"] != NOT_LANDED)
    text = PatientText(pool, p)
    contact = pool["contact"][p]
    district = pool["district"][p]
    return pa.table(
        {
            "patient_id": patient_ids(p),
            "name_zh": _only(text.name_zh, ~text.english),
            "name_en": text.name_en,
            "display_name": text.display,
            "phone": text.phone,
            "email": _only(text.email, text.email_kind >= 0),
            "national_id": text.national_id,
            "mrn": fmt.digits(p + 1, 9, "MRN"),
            "address_line": address_line(pool, p),
            "city": fmt.take(_CITY, district),
            "district": fmt.take(_DISTRICT, district),
            "birth_date": fmt.date_str(pool["birth_day"][p]),
            "gender": fmt.take(_GENDER, pool["gender"][p]),
            "contact_name": _only(_contact_name(pool, p), contact),
            "contact_phone": _only(fmt.int_str(pool["contact_phone"][p]), contact),
            "landed_date": fmt.date_str(pool["landed"][p]),
        }
    )


def _only(values: pa.Array, keep: np.ndarray) -> pa.Array:
    """``values`` where ``keep``, else null."""
    return pc.if_else(pa.array(np.asarray(keep, dtype=bool)), values, pa.scalar(None, pa.string()))


def display_names(pool: PatientPool, p: np.ndarray) -> pa.Array:
    """How an EHR shows a patient in a reference's ``display``: Chinese name, or the English one."""
    sur, g1, g2 = pool["sur"][p], pool["g1"][p] + 1, pool["g2"][p] + 1
    zh = fmt.concat_text(fmt.take(_SUR_ZH, sur), fmt.take(_GIVEN_ZH, g1), fmt.take(_GIVEN_ZH, g2))
    english = pool["english"][p]
    if not english.any():
        return zh
    first = pool["en_first"][p]
    en_first = fmt.when(pool["gender"][p] == 1, fmt.take(_EN_FIRST[1], first), fmt.take(_EN_FIRST[0], first))
    en = fmt.concat_text(en_first, " ", fmt.take(_EN_LAST, pool["en_last"][p]))
    return fmt.when(english, en, zh)
