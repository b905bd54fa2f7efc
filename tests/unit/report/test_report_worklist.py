"""The worklist CSV export of marts.fct_service_recovery_items: one day, ordered, scrubbed again.

Which responses and complaints the mart lists, and why, is the dbt unit test
test_fct_service_recovery_items_lists_and_explains (models/marts/experience/_experience__models.yml)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from journey.config import Settings
from journey.errors import JourneyError
from journey.report.worklist import COLUMNS, build_worklist, excerpts, write_worklist

DAY = "2026-03-01"  # the worklist of 2026-03-02 lists this day


def _warehouse(conn: duckdb.DuckDBPyConnection) -> None:
    # The mart as dbt builds it; r1's and r5's excerpts hold identifiers the load-time scrub missed
    # (a row loaded by an older version): the export scrubs them again.
    conn.execute("create schema marts")
    conn.execute(f"""
        create table marts.fct_service_recovery_items as select * from (values
          ('survey:r1', date '{DAY}', 'survey', 'r1', 'e1', 'emergency', 'Emergency', '急诊科', 'detractor (NPS 3)',
           3, 8, 185.0, 4.5, false, null, 'Waited 3 hours, call me on 13812345678'),
          ('survey:r2', date '{DAY}', 'survey', 'r2', 'e2', 'cardiology', 'Cardiology', '心内科',
           'bottom-box cleanliness: never', 8, 9, 20.0, 1.0, false, null, ''),
          ('survey:r5', date '{DAY}', 'survey', 'r5', 'e5', 'cardiology', 'Cardiology', '心内科', 'overall rating 5',
           9, 5, null, null, null, null, '他说：请打 (021) 6234-5678 或 ＋８６　１３９　１２３４　５６７８'),
          ('survey:r6', date '2026-02-28', 'survey', 'r6', 'e6', 'emergency', 'Emergency', '急诊科',
           'detractor (NPS 1)', 1, 1, null, null, null, null, 'other day'),
          ('complaint:c1', date '{DAY}', 'complaint', 'c1', 'e7', 'emergency', 'Emergency', '急诊科',
           'new complaint (wait_time, via phone)', null, null, null, 2.0, true, 'wait_time',
           'Nobody answered; email me at someone@example.com'),
          ('complaint:c2', date '2026-03-02', 'complaint', 'c2', null, 'cardiology', 'Cardiology', '心内科',
           'new complaint (billing, via web)', null, null, null, null, null, 'billing', 'next day')
        ) as t(worklist_item_id, worklist_local_date, source, record_id, encounter_id, department_code,
               department_name, department_name_zh, reasons, nps_score, overall_rating, door_to_provider_min,
               length_of_stay_hours, is_lwbs, complaint_category, excerpt)
    """)


@pytest.fixture
def conn() -> duckdb.DuckDBPyConnection:
    connection = duckdb.connect()
    _warehouse(connection)
    return connection


def test_worklist_exports_the_previous_days_rows_in_order(conn: duckdb.DuckDBPyConnection) -> None:
    rows = build_worklist(conn, date(2026, 3, 2))
    assert list(rows.columns) == list(COLUMNS)
    # r6 is about the day before, c2 about the worklist day itself; cardiology before emergency,
    # complaint before survey
    assert rows["record_id"].tolist() == ["r2", "r5", "c1", "r1"]
    by_id = rows.set_index("record_id")
    assert by_id.loc["r1", "reasons"] == "detractor (NPS 3)"
    assert by_id.loc["r1", "nps_score"] == 3 and pd.isna(by_id.loc["c1", "nps_score"])
    assert by_id.loc["r1", "door_to_provider_min"] == 185.0
    assert by_id.loc["c1", "encounter_id"] == "e7" and bool(by_id.loc["c1", "is_lwbs"]) is True
    assert by_id.loc["r1", "department_name_zh"] == "急诊科"
    assert set(rows["worklist_date"]) == {DAY}
    # identifiers scrubbed from the excerpts (again), and never a patient key
    assert by_id.loc["r1", "excerpt"] == "Waited 3 hours, call me on [phone]"
    assert by_id.loc["c1", "excerpt"] == "Nobody answered; email me at [email]"
    # a landline, and a mobile in full-width digits with ideographic spaces
    assert by_id.loc["r5", "excerpt"] == "他说：请打 [phone] 或 [phone]"
    assert by_id.loc["r2", "excerpt"] == ""
    assert "patient_key" not in rows.columns


def test_worklist_empty_day_has_the_columns(conn: duckdb.DuckDBPyConnection) -> None:
    rows = build_worklist(conn, date(2026, 1, 1))
    assert rows.empty and list(rows.columns) == list(COLUMNS)


def test_write_worklist_csv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JOURNEY_DATA_DIR", str(tmp_path))
    settings = Settings()
    settings.warehouse_path.parent.mkdir(parents=True)
    writer = duckdb.connect(str(settings.warehouse_path))
    _warehouse(writer)
    writer.close()
    path, frame = write_worklist(settings, date(2026, 3, 2))
    assert path == tmp_path / "worklist" / "worklist-2026-03-02.csv"
    written = pd.read_csv(path, encoding="utf-8-sig")
    assert written["record_id"].tolist() == ["r2", "r5", "c1", "r1"]
    text = path.read_text(encoding="utf-8-sig")
    assert "13812345678" not in text, "scrubbed on the read-only connection"
    assert "Waited 3 hours, call me on [phone]" in text


def test_write_worklist_without_the_mart_says_what_to_do(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JOURNEY_DATA_DIR", str(tmp_path))
    settings = Settings()
    settings.warehouse_path.parent.mkdir(parents=True)
    duckdb.connect(str(settings.warehouse_path)).close()
    with pytest.raises(JourneyError, match="fct_service_recovery_items.*journey run --rebuild"):
        write_worklist(settings, date(2026, 3, 2))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("电话13912345678请回电", "电话[phone]请回电"),
        ("身份证110101199003074514", "身份证[id]"),
        ("电话１３９－１２３４－５６７８", "电话[phone]"),
        ("line one\n  line two", "line one line two"),
        ("", ""),
        (None, ""),
        (float("nan"), ""),
    ],
)
def test_excerpts_are_scrubbed_in_duckdb(text: str | None, expected: str) -> None:
    assert excerpts(duckdb.connect(), [text]) == [expected]


def test_excerpts_keep_their_order_and_are_cut_after_scrubbing() -> None:
    conn = duckdb.connect()
    assert excerpts(conn, ["x" * 500, None, "short"], limit=10) == ["x" * 9 + "…", "", "short"]
    # cut first, "call 1381234567" would keep ten digits of the number; scrubbed first, none
    assert excerpts(conn, ["call 13812345678 now"], limit=16) == ["call [phone] now"]
    assert excerpts(conn, ["call 13812345678 please, soon"], limit=14) == ["call [phone]…"]
    assert excerpts(conn, ["word " * 3], limit=6) == ["word…"], "no space left before the ellipsis"
    assert excerpts(conn, []) == []


def test_excerpts_split_lines_on_every_space_python_knows() -> None:
    """The excerpt is on one line however the text was spaced (what Python's str.split() splits on)."""
    spaces = [chr(code) for code in range(0x3001) if chr(code).isspace()]
    texts = [f" a{space}{space}b{space}" for space in spaces] + ["a\u200bb"]
    assert excerpts(duckdb.connect(), texts) == ["a b"] * len(spaces) + ["a\u200bb"]
