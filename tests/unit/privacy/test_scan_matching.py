"""How `journey privacy-scan` recognises a needle: the forms people and systems really write, and
not the near misses (a date inside a longer number, a date run into a time's digits)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from journey.privacy.scan import Needle, scan

PHONE = Needle("phone", "13812345678")
NATIONAL_ID = Needle("national_id", "31010419520409684X")
BIRTH = Needle("birth_date", "1952-04-09")
NAME = Needle("name", "Li  Ming")
EMAIL = Needle("email", "li.ming@example.org")
SHORT_NAME = Needle("name", "Na Hu")
MRN = Needle("mrn", "MRN001")
NEEDLES = [PHONE, NATIONAL_ID, BIRTH, NAME, EMAIL, SHORT_NAME, MRN]


def _found(lines: list[str], tmp_path: Path) -> dict[int, set[str]]:
    """Line number → kinds found, scanning one file of ``lines``."""
    file = tmp_path / "notes.log"
    file.write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = scan(NEEDLES, folders=[file])
    assert report.lines == len(lines)
    found: dict[int, set[str]] = {}
    for leak in report.leaks:
        found.setdefault(int(leak.column.removeprefix("line ")), set()).add(leak.kind)
    return found


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("call 13812345678", "phone"),
        ("call 138 1234 5678", "phone"),
        ("call +86-138-1234-5678", "phone"),
        ("call 138.1234.5678", "phone"),
        ("call １３８１２３４５６７８ (full width)", "phone"),
        ("id 31010419520409684x", "national_id"),
        ("id 310104 1952 0409 684X", "national_id"),
        ("id 310104-1952-0409-684X", "national_id"),
        ("born 1952-04-09", "birth_date"),
        ("born 1952/4/9 at home", "birth_date"),
        ("born 1952.04.09", "birth_date"),
        ("出生于1952年4月9日", "birth_date"),
        ("出生于1952年04月09日", "birth_date"),
        ("dob=19520409;", "birth_date"),
        ("patient LI MING arrived", "name"),
        ("patient li\tming arrived", "name"),
        ("患者Li Ming来了", "name"),
        ("name=na hu;", "name"),
        ("chart MRN001.", "mrn"),
        ("mail LI.MING@EXAMPLE.ORG", "email"),
        ("mail ｌｉ.ｍｉｎｇ＠example.org", "email"),
    ],
)
def test_written_forms_are_found(text: str, kind: str, tmp_path: Path) -> None:
    assert _found(["nothing here", text], tmp_path) == {2: {kind}}


@pytest.mark.parametrize(
    "text",
    [
        "order 1952-04-091",  # the date runs into more digits
        "hash a19520409b",  # compact form inside a hex string
        "1195204090",  # compact form inside a longer number
        "1952-04-19",  # another day
        "13812345679",  # another phone
        "li_ming",  # joined by an underscore, not a space
        "mokuaina hui pu ia",  # a short name inside other words
        "MRN0012",  # another record number
    ],
)
def test_near_misses_are_not_found(text: str, tmp_path: Path) -> None:
    assert _found([text], tmp_path) == {}


def test_warehouse_hits_name_table_column_and_count(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    conn = duckdb.connect(str(path))
    conn.execute("create schema marts")
    conn.execute("create table marts.notes (id integer, body varchar, ok boolean, seen date)")
    conn.execute(
        "insert into marts.notes values (1, 'ring 138 1234 5678', true, null), (2, 'nothing', false, null),"
        " (3, 'again 13812345678 and 13812345678', null, '1952-04-09'), (4, null, null, null)"
    )
    conn.close()
    report = scan(NEEDLES, warehouse=path)
    got = {(leak.where, leak.column, leak.kind, leak.rows) for leak in report.leaks}
    assert got == {("marts.notes", "body", "phone", 2), ("marts.notes", "seen", "birth_date", 1)}
    assert (report.tables, report.columns) == (1, 3)
    sample = next(leak.sample for leak in report.leaks if leak.kind == "phone")
    assert "13812345678" in sample and "nothing" not in sample
