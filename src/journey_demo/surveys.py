"""Patient experience and the post-visit survey (FHIR QuestionnaireResponse).

``satisfaction`` turns an encounter's wait into a latent score: longer waits than the class norm, and
leaving without being seen, lower it. About a quarter of encounters get a survey, answered 1-10 days
after departure (so it lands in a later drop). NPS and the overall rating fall with the wait; the HCAHPS
frequency items (never / sometimes / usually / always) follow the same score; some items are left
unanswered (absent); a third leave a Chinese or English comment, a few with their phone or e-mail.

Calibration (the demo hospital should look like a real one, not a wall of red): the answers are set so
that, over all respondents, about 68 % rate the visit 9-10 (CMS HCAHPS national "rate the hospital
9-10" is about 70 %, https://www.hcahpsonline.org/en/summary-analyses/), NPS is about +45 (hospital
NPS typically +30 to +60, e.g. NICE Satmetrix / Press Ganey benchmarks), and the HCAHPS items are
answered "always" about as often as nationally (nurse and doctor communication ~79 %, cleanliness ~73 %,
responsiveness ~65 %, quietness ~62 %, discharge information ~86 %). Departments differ by their
latent satisfaction (waits, department offset), so some meet the KPI targets of seeds/kpi_targets.csv,
some are at risk and the emergency department, with the longest waits, misses them.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from journey_demo import fmt, vocab
from journey_demo.encounters import encounter_ids
from journey_demo.fmt import Group
from journey_demo.frames import Frame
from journey_demo.model import (
    DAY,
    DEPARTMENTS,
    HCAHPS_ANSWERS,
    HCAHPS_ITEMS,
    HOUR,
    QR_STATUSES,
    QUESTIONNAIRE,
    categorical,
)
from journey_demo.patients import PatientPool, patient_ids
from journey_demo.texts import EN, ZH, TextTable, band, contact_kinds, with_contact

QR_SALT = 0x9E5
COMMENTS = TextTable(vocab.COMMENTS_ZH, vocab.COMMENTS_EN)
_REFERENCE_WAIT_MIN = np.array([20.0, 30.0, 60.0])  # AMB, EMER, IMP
_RESPONSE_RATE = np.array([0.25, 0.20, 0.35])
# HCAHPS items: offsets of each item's score and the cut points never | sometimes | usually | always,
# set so the "always" shares match the national ones (module docstring)
_ITEM_OFFSET = np.array([0.2, 0.1, -0.3, 0.0, -0.4, 0.8])
_ITEM_CUTS = [-2.6, -1.8, -0.9]
# 0-10 answers = round(intercept + slope × satisfaction + noise × N(0, 1)), clipped: the slope keeps the
# answers moving with the latent satisfaction (and so with the wait), intercept and noise set the
# share of 9-10 (~68 % overall rating) and of 0-6 (NPS ~+45) over the respondents' satisfaction
# (mean about -0.14, SD about 0.9)
_NPS_ANSWER = (9.76, 2.2, 1.61)
_OVERALL_ANSWER = (10.22, 2.2, 1.48)
_ASKED = np.array(
    [  # which HCAHPS items each class is asked (AMB, EMER, IMP)
        [True, True, True, True, False, False],
        [True, True, True, True, False, True],
        [True, True, True, True, True, True],
    ]
)
_STATUS = fmt.vocab(QR_STATUSES)
_ANSWER = fmt.vocab(HCAHPS_ANSWERS)
_DEPT_OFFSET = np.array([d.satisfaction_offset for d in DEPARTMENTS])


def satisfaction(encounters: Frame, rng: np.random.Generator) -> np.ndarray:
    """Latent satisfaction (about N(0, 1)); falls with the wait relative to the class norm."""
    n = len(encounters)
    ref = _REFERENCE_WAIT_MIN[encounters["cls"]]
    wait = np.maximum(encounters["wait_min"], 0)
    z = _DEPT_OFFSET[encounters["dept"]] + 0.75 * rng.standard_normal(n)
    z -= 0.9 * np.log((wait + 5) / (ref + 5))
    return z - 1.5 * encounters["lwbs"]


def surveys(encounters: Frame, z: np.ndarray, pool: PatientPool, rng: np.random.Generator) -> Frame:
    """QuestionnaireResponses for the encounters that answer (ids assigned by the caller)."""
    cls = encounters["cls"]
    rate = _RESPONSE_RATE[cls] * (1 + 0.12 * np.abs(z)) * np.where(encounters["lwbs"], 0.6, 1.0)
    rows = np.flatnonzero(rng.random(len(encounters)) < rate)
    e = encounters.take(rows)
    s = z[rows]
    n = len(rows)
    delay_days = np.minimum(rng.geometric(0.35, n), 10)
    authored = (e["departure"] // DAY + delay_days) * DAY + rng.integers(8 * HOUR, 23 * HOUR, n)
    status = categorical(rng, [0.9, 0.07, 0.03], n)
    missing = np.array([0.05, 0.5, 0.8])[status]
    nps, overall = (
        np.clip(np.round(intercept + slope * s + noise * rng.standard_normal(n)), 0, 10).astype(np.int64)
        for intercept, slope, noise in (_NPS_ANSWER, _OVERALL_ANSWER)
    )
    cols: dict[str, np.ndarray] = {
        "enc": e["enc"],
        "patient": e["patient"],
        "authored": authored,
        "lu": authored,
        "status": status,
        "nps": np.where(rng.random(n) < missing * 0.4, -1, nps),
        "overall": np.where(rng.random(n) < missing * 0.5, -1, overall),
    }
    for i in range(len(HCAHPS_ITEMS)):
        score = s + _ITEM_OFFSET[i] + 0.8 * rng.standard_normal(n)
        answer = np.digitize(score, _ITEM_CUTS)
        asked = _ASKED[e["cls"], i] & (rng.random(n) >= missing)
        cols[f"h{i}"] = np.where(asked, answer, -1)
    english = pool["english"][e["patient"]] | (rng.random(n) < 0.12)
    lang = np.where(english, EN, ZH)
    has_comment = rng.random(n) < np.where(status == 0, 0.35, 0.15)
    cols["comment"] = np.where(has_comment, COMMENTS.pick(lang, band(s), rng), -1)
    cols["lang"] = lang
    email_ok = pool["email_kind"][e["patient"]] >= 0
    cols["contact"] = np.where(has_comment, contact_kinds(rng, n, 0.08, email_ok), -1)
    return Frame(cols)


def qr_ids(idx: np.ndarray) -> pa.StringArray:
    return fmt.hex_ids(idx, QR_SALT)


def _comment(f: Frame, pool: PatientPool) -> fmt.Seg:
    has = f["comment"] >= 0
    if not has.any():
        return ""
    body = COMMENTS.text(np.maximum(f["comment"], 0))
    text = fmt.json_escape(with_contact(body, pool, f["patient"], f["contact"], f["lang"]))
    return fmt.when(has, fmt.concat_text(',{"linkId":"comment","answer":[{"valueString":"', text, '"}]}'))


def encode_surveys(f: Frame, pool: PatientPool) -> tuple[list[Group], pa.Array]:
    ids = qr_ids(f["qr"])
    items: list[fmt.Seg] = [
        fmt.when(
            f["nps"] >= 0,
            fmt.concat_text(',{"linkId":"nps","answer":[{"valueInteger":', fmt.int_str(f["nps"]), "}]}"),
        ),
        fmt.when(
            f["overall"] >= 0,
            fmt.concat_text(
                ',{"linkId":"overall","answer":[{"valueInteger":', fmt.int_str(f["overall"]), "}]}"
            ),
        ),
    ]
    for i, item in enumerate(HCAHPS_ITEMS):
        answer = f[f"h{i}"]
        if (answer >= 0).any():
            items.append(
                fmt.when(
                    answer >= 0,
                    fmt.concat_text(
                        f',{{"linkId":"{item}","answer":[{{"valueCoding":{{"system":"https://journey.example/fhir/'
                        'CodeSystem/hcahps-frequency","code":"',
                        fmt.take(_ANSWER, np.maximum(answer, 0)),
                        '"}}]}',
                    ),
                )
            )
    items.append(_comment(f, pool))
    any_item = (f["nps"] >= 0) | (f["overall"] >= 0) | (f["comment"] >= 0)
    for i in range(len(HCAHPS_ITEMS)):
        any_item |= f[f"h{i}"] >= 0
    groups: list[Group] = [
        ("resourceType", ['{"resourceType":"QuestionnaireResponse"']),
        ("id", [',"id":"', ids, '"']),
        ("meta", [',"meta":{"lastUpdated":"', fmt.instant(f["lu"]), '"}']),
        ("questionnaire", [',"questionnaire":"', QUESTIONNAIRE, '"']),
        ("status", [',"status":"', fmt.take(_STATUS, f["status"]), '"']),
        ("subject", [',"subject":{"reference":"Patient/', patient_ids(f["patient"]), '"}']),
        ("encounter", [',"encounter":{"reference":"Encounter/', encounter_ids(f["enc"]), '"}']),
        ("authored", [',"authored":"', fmt.instant(f["authored"]), '"']),
        ("item", [fmt.when(any_item, fmt.concat_text(',"item":[', fmt.json_list(items), "]"))]),
        ("close", ["}"]),
    ]
    return groups, ids
