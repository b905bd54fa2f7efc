"""Free text: picking Chinese/English templates by sentiment, and planting contact details in some.

Survey comments, complaint descriptions and reviews are templates chosen by (language, band). A few
carry the patient's own phone number, e-mail or resident ID, the way people really write them, so the
loader's scrubbing and the privacy tests have something real to find.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa

from journey_demo import fmt, vocab
from journey_demo.patients import PatientPool, PatientText

ZH, EN = 0, 1
NO_CONTACT, PHONE, EMAIL, RESIDENT_ID = -1, 0, 1, 2
_PREFIX = {  # (kind, language) -> text before the value, text after it
    (PHONE, ZH): (vocab.CONTACT_PHONE_ZH, "）"),
    (PHONE, EN): (vocab.CONTACT_PHONE_EN, "."),
    (EMAIL, ZH): (vocab.CONTACT_EMAIL_ZH, "）"),
    (EMAIL, EN): (vocab.CONTACT_EMAIL_EN, "."),
    (RESIDENT_ID, ZH): (vocab.CONTACT_ID_ZH, "）"),
    (RESIDENT_ID, EN): (vocab.CONTACT_ID_EN, "."),
}


class TextTable:
    """Templates by (language, band), flattened into one Arrow vocabulary."""

    def __init__(self, zh: Sequence[Sequence[str]], en: Sequence[Sequence[str]]) -> None:
        bands = [list(b) for b in zh] + [list(b) for b in en]
        self.n_bands = len(zh)
        self.lengths = np.array([len(b) for b in bands])
        self.offsets = np.concatenate([[0], np.cumsum(self.lengths)[:-1]])
        self.values = fmt.vocab(t for b in bands for t in b)

    def pick(self, lang: np.ndarray, band: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        slot = lang * self.n_bands + band
        return self.offsets[slot] + np.floor(rng.random(len(slot)) * self.lengths[slot]).astype(np.int64)

    def text(self, idx: np.ndarray) -> pa.Array:
        return fmt.take(self.values, idx)


def contact_kinds(rng: np.random.Generator, n: int, rate: float, email_ok: np.ndarray) -> np.ndarray:
    """Which rows mention a contact detail, and which one (phone mostly)."""
    kind = np.where(rng.random(n) < 0.65, PHONE, np.where(rng.random(n) < 0.7, EMAIL, RESIDENT_ID))
    kind = np.where((kind == EMAIL) & ~email_ok, PHONE, kind)
    return np.where(rng.random(n) < rate, kind, NO_CONTACT)


def with_contact(
    body: pa.Array, pool: PatientPool, patients: np.ndarray, kind: np.ndarray, lang: np.ndarray
) -> pa.Array:
    """``body`` followed, where ``kind`` says so, by the patient's phone / e-mail / resident ID."""
    rows = np.flatnonzero(kind >= 0)
    if not len(rows):
        return body
    text = PatientText(pool, patients[rows])
    values = {PHONE: text.phone, EMAIL: text.email, RESIDENT_ID: text.national_id}
    k, lg = kind[rows], lang[rows]
    suffix: fmt.Seg = ""
    for (ck, cl), (before, after) in _PREFIX.items():
        mask = (k == ck) & (lg == cl)
        if mask.any():
            suffix = fmt.when(mask, fmt.concat_text(before, values[ck], after), suffix)
    full = np.zeros(len(body), dtype=np.int64)
    full[rows] = np.arange(len(rows)) + 1
    padded = pa.concat_arrays(
        [
            pa.array([""], pa.string()),
            fmt.concat_text(suffix, "")
            if isinstance(suffix, pa.Array)
            else pa.array([suffix] * len(rows), pa.string()),
        ]
    )
    return fmt.concat_text(body, fmt.take(padded, full))


def band(satisfaction: np.ndarray, low: float = -0.7, high: float = 0.5) -> np.ndarray:
    """0 negative, 1 neutral, 2 positive."""
    return np.where(satisfaction < low, 0, np.where(satisfaction > high, 2, 1))
