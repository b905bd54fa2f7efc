"""The service-recovery worklist on a hand-made warehouse: who is listed, why, and what is never shown."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from journey.config import Settings
from journey.report.worklist import COLUMNS, build_worklist, excerpts, write_worklist

DAY = "2026-03-01"  # the worklist of 2026-03-02 lists this day


def _warehouse(conn: duckdb.DuckDBPyConnection) -> None:
    conn.execute("create schema marts")
    conn.execute("""
        create table marts.fct_survey_responses as select * from (values
          ('r1', 'e1', 'pk-secret-1', 'emergency', true, 3, 8, 'always', 'always', 'always', 'always', 'always',
           'always', 'Waited 3 hours, call me on 13812345678'),
          ('r2', 'e2', 'pk-secret-2', 'cardiology', true, 8, 9, 'always', 'usually', 'always', 'never', 'always',
           'always', null),
          ('r3', 'e3', 'pk-secret-3', 'emergency', true, 10, 10, 'always', 'always', 'always', 'always', 'always',
           'always', 'great'),
          ('r4', 'e4', 'pk-secret-4', 'emergency', false, 0, null, null, null, null, null, null, null, 'abandoned'),
          ('r5', 'e5', 'pk-secret-5', 'cardiology', true, 9, 5, null, null, null, null, null, null,
           '他说：请打 (021) 6234-5678 或 ＋８６　１３９　１２３４　５６７８'),
          ('r6', 'e6', 'pk-secret-6', 'emergency', true, 1, 1, null, null, null, null, null, null, 'other day')
        ) as t(response_id, encounter_id, patient_key, department_code, is_completed, nps_score, overall_rating,
               nurse_communication, doctor_communication, responsiveness, cleanliness, quietness,
               discharge_information, comment_text)
    """)
    conn.execute(f"""
        alter table marts.fct_survey_responses add column authored_local_date date default date '{DAY}';
        update marts.fct_survey_responses set authored_local_date = date '2026-02-28' where response_id = 'r6';
    """)
    conn.execute(f"""
        create table marts.fct_complaints as select * from (values
          ('c1', 'pk-secret-7', 'e7', 'emergency', 'wait_time', 'phone', date '{DAY}',
           'Nobody answered; email me at someone@example.com'),
          ('c2', 'pk-secret-8', null, 'cardiology', 'billing', 'web', date '2026-03-02', 'next day')
        ) as t(complaint_id, patient_key, encounter_id, department_code, complaint_category, complaint_channel,
               received_local_date, description_text)
    """)
    conn.execute("""
        create table marts.fct_encounters as select * from (values
          ('e1', 'pk-secret-1', 185.0, 4.5, false), ('e2', 'pk-secret-2', 20.0, 1.0, false),
          ('e7', 'pk-secret-7', null, 2.0, true)
        ) as t(encounter_id, patient_key, door_to_provider_min, length_of_stay_hours, is_lwbs)
    """)
    conn.execute("""
        create table marts.dim_department as select * from (values
          ('emergency', 'Emergency'), ('cardiology', 'Cardiology')) as t(department_code, department_name)
    """)


@pytest.fixture
def conn() -> duckdb.DuckDBPyConnection:
    connection = duckdb.connect()
    _warehouse(connection)
    return connection


def test_worklist_lists_the_previous_days_detractors_bottom_box_and_complaints(conn: duckdb.DuckDBPyConnection) -> None:
    rows = build_worklist(conn, date(2026, 3, 2))
    assert list(rows.columns) == list(COLUMNS)
    # r3 promoter with top answers: no; r4 not completed; r6 other day; c2 received on the worklist day itself
    assert rows["record_id"].tolist() == ["r2", "r5", "c1", "r1"]
    by_id = rows.set_index("record_id")
    assert by_id.loc["r1", "reasons"] == "detractor (NPS 3)"
    assert by_id.loc["r2", "reasons"] == "bottom-box cleanliness: never"
    assert by_id.loc["r5", "reasons"] == "overall rating 5"
    assert by_id.loc["c1", "reasons"] == "new complaint (wait_time, via phone)"
    assert by_id.loc["r1", "door_to_provider_min"] == 185.0
    assert by_id.loc["r1", "length_of_stay_hours"] == 4.5
    assert by_id.loc["c1", "encounter_id"] == "e7" and bool(by_id.loc["c1", "is_lwbs"]) is True
    assert by_id.loc["r1", "department_name"] == "Emergency"
    assert set(rows["worklist_date"]) == {DAY}
    # identifiers scrubbed from the excerpts (again), and never a patient key
    assert by_id.loc["r1", "excerpt"] == "Waited 3 hours, call me on [phone]"
    assert by_id.loc["c1", "excerpt"] == "Nobody answered; email me at [email]"
    # a landline, and a mobile in full-width digits with ideographic spaces
    assert by_id.loc["r5", "excerpt"] == "他说：请打 [phone] 或 [phone]"
    assert "patient_key" not in rows.columns
    assert not rows.astype(str).apply(lambda column: column.str.contains("pk-secret")).any().any()


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
    assert "pk-secret" not in text
    assert "13812345678" not in text, "scrubbed on the read-only connection"
    assert "Waited 3 hours, call me on [phone]" in text


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
