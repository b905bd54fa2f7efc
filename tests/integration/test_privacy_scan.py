"""The proof of issue #6: after a real nightly run over a demo hospital, no identifier the generator
planted (names, phones, resident IDs, e-mails, addresses, birth dates, MRNs, EHR patient ids) nor the
secret is anywhere in the published warehouse (every column of every table and view of every schema:
raw, quarantine, staging, intermediate, marts, ops, seeds) or in the files the run wrote (logs, dbt
target and logs, the docs site, Prefect's home). Once on clean data, once with injected defects (whose
malformed rows end up in quarantine).

Free text with contact details is rare in a tiny hospital, so each run also lands a complaints file
whose descriptions carry planted patients' phones, IDs and e-mails the way people write them.
"""

from __future__ import annotations

import csv
from datetime import date, timedelta

import duckdb
import pyarrow.parquet as pq
import pytest

from journey.config import Settings
from journey.privacy.scan import (
    Needle,
    ScanReport,
    data_dir_folders,
    needles_from_identities,
    scan,
    secret_needles,
)
from journey_demo import generate

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("prefect")]

START = date(2026, 3, 2)
DAYS = 2
SCHEMAS = {"raw", "quarantine", "staging", "intermediate", "marts", "ops"}


def _plant_complaints(settings: Settings) -> list[Needle]:
    """A complaints drop whose free text and patient ids come from real planted identities."""
    people = pq.read_table(settings.generator_dir / "identities.parquet").slice(0, 4).to_pylist()
    texts = [
        "等了三个小时没人管，请回电{phone_spaced}（+86 {phone}），身份证{national_id}",
        "Nobody called back. Reach me at +86-{phone_dashed} or {email}",
        "挂号时身份证号{national_id_lower}被念出来了，联系电话{phone}",
        "Billing wrong again; my ID is {national_id}, mobile {phone}.",
    ]
    rows = []
    for number, (person, text) in enumerate(zip(people, texts, strict=True), start=1):
        phone = person["phone"]
        rows.append(
            {
                "complaint_id": f"PRIV{number:04d}",
                "patient_id": person["patient_id"],
                "encounter_id": "",
                "department": "emergency",
                "received_at": f"{START.isoformat()}T09:{number:02d}:00",
                "first_response_at": "",
                "resolved_at": "",
                "category": "communication",
                "channel": "phone",
                "description": text.format(
                    phone=phone,
                    phone_spaced=f"{phone[:3]} {phone[3:7]} {phone[7:]}",
                    phone_dashed=f"{phone[:3]}-{phone[3:7]}-{phone[7:]}",
                    national_id=person["national_id"],
                    national_id_lower=person["national_id"].lower(),
                    email=person["email"] or "nobody.known@example.org",
                ),
            }
        )
    path = settings.landing_dir / "relations" / START.isoformat() / "complaints.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return [Needle("email", "nobody.known@example.org")]


def _needles(settings: Settings, extra: list[Needle]) -> list[Needle]:
    identities = pq.read_table(settings.generator_dir / "identities.parquet")
    # A child born inside the demo's window has a birth date that is also an ordinary event date.
    needles = needles_from_identities(identities, birth_dates_before=START - timedelta(days=730))
    return needles + extra + secret_needles(settings.pseudonym_key())


def _run_and_scan(settings: Settings, defect_rate: float) -> tuple[ScanReport, list[Needle]]:
    from flows.nightly import nightly

    generate(settings.landing_dir, settings.generator_dir, start=START, days=DAYS, scale=0.03, seed=11,
             defect_rate=defect_rate)
    extra = _plant_complaints(settings)
    result = nightly(run_date=START + timedelta(days=DAYS - 1))
    assert result["status"] == "succeeded"
    needles = _needles(settings, extra)
    report = scan(needles, warehouse=settings.warehouse_path, folders=data_dir_folders(settings))
    return report, needles


def _assert_scan_is_not_vacuous(settings: Settings, report: ScanReport, needles: list[Needle]) -> None:
    assert report.tables >= 30 and report.files > 10, report.summary()
    conn = duckdb.connect(str(settings.warehouse_path), read_only=True)
    try:
        tables = conn.execute("select distinct table_schema from information_schema.tables").fetchall()
        schemas = {row[0] for row in tables}
        scrubbed = conn.execute(
            "select count(*) filter (description like '%[phone]%'), count(*) filter (description like '%[id]%')"
            " from raw.relations_complaints where complaint_id like 'PRIV%'"
        ).fetchone()
    finally:
        conn.close()
    assert SCHEMAS <= schemas
    assert scrubbed == (4, 3), "the planted complaints reached raw, scrubbed"
    # The same scan over the landing zone, which holds the identities by design, finds them all kinds.
    landing = scan(needles, folders=[settings.landing_dir])
    assert {"name", "phone", "national_id", "email", "address", "birth_date", "mrn", "patient_id"} <= {
        leak.kind for leak in landing.leaks
    }


def test_clean_demo_leaves_no_identifier_in_warehouse_or_logs(settings: Settings) -> None:
    report, needles = _run_and_scan(settings, defect_rate=0.0)
    assert report.clean, report.summary()
    _assert_scan_is_not_vacuous(settings, report, needles)


def test_defect_injected_demo_leaves_no_identifier_even_in_quarantine(settings: Settings) -> None:
    report, needles = _run_and_scan(settings, defect_rate=0.05)
    assert report.clean, report.summary()
    conn = duckdb.connect(str(settings.warehouse_path), read_only=True)
    try:
        rules = {row[0] for row in conn.execute("select distinct rule from quarantine.rows").fetchall()}
    finally:
        conn.close()
    assert "malformed_json" in rules or "malformed_csv_row" in rules, f"defects should quarantine rows: {rules}"
    _assert_scan_is_not_vacuous(settings, report, needles)
