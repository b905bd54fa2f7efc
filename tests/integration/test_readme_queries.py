"""Every SQL answer in docs/analysts.md's "Five questions a patient-experience manager asks" runs on a built
warehouse and answers with rows: the analyst documentation cannot drift from the contract tables."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest

from journey.config import Settings

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("small_hospital")]

README = Path(__file__).resolve().parents[2] / "docs" / "analysts.md"


def _questions() -> list[str]:
    text = README.read_text(encoding="utf-8")
    section = text.split("### Five questions", 1)[1].split("\n## ", 1)[0].split("\n### ", 1)[0]
    return [block.strip() for block in re.findall(r"```sql\n(.*?)```", section, flags=re.S)]


def test_the_readme_has_five_questions() -> None:
    assert len(_questions()) == 5


@pytest.mark.parametrize("number", range(1, 6))
def test_each_readme_question_runs_and_answers(small_hospital: Settings, number: int) -> None:
    sql = _questions()[number - 1]
    conn = duckdb.connect(str(small_hospital.work_path), read_only=True)
    try:
        rows = conn.execute(sql).fetchall()
    finally:
        conn.close()
    assert rows, f"question {number} found nothing on a 33-day hospital:\n{sql}"
