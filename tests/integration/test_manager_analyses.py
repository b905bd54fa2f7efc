"""The five manager questions of docs/analysts.md are dbt analyses (analyses/manager_q*.sql): each compiles with
dbt and answers exactly what its SQL answers, row for row, on the shared small hospital."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest

from journey.config import Settings
from journey.transform.dbt import run_dbt

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("small_hospital")]

PROJECT = Path(__file__).resolve().parents[2]
ANALYSES = sorted(path.stem for path in (PROJECT / "analyses").glob("manager_q*.sql"))


def _readme_questions() -> list[str]:
    text = (PROJECT / "docs" / "analysts.md").read_text(encoding="utf-8")
    section = text.split("### Five questions", 1)[1].split("\n## ", 1)[0].split("\n### ", 1)[0]
    return [block.strip() for block in re.findall(r"```sql\n(.*?)```", section, flags=re.S)]


@pytest.fixture(scope="module")
def compiled(small_hospital: Settings) -> dict[str, str]:
    run_dbt(small_hospital, small_hospital.work_path, "compile", "--select", "resource_type:analysis")
    folder = small_hospital.dbt_target_dir / "compiled" / "journey" / "analyses"
    return {name: (folder / f"{name}.sql").read_text(encoding="utf-8") for name in ANALYSES}


def test_there_is_one_analysis_per_readme_question() -> None:
    assert len(ANALYSES) == len(_readme_questions()) == 5


@pytest.mark.parametrize("number", range(1, 6))
def test_each_analysis_answers_its_readme_question(
    small_hospital: Settings, compiled: dict[str, str], number: int
) -> None:
    name = ANALYSES[number - 1]
    assert name.startswith(f"manager_q{number}_")
    conn = duckdb.connect(str(small_hospital.work_path), read_only=True)
    try:
        expected = conn.execute(_readme_questions()[number - 1]).fetchall()
        answered = conn.execute(compiled[name]).fetchall()
    finally:
        conn.close()
    assert expected, f"question {number} has no rows on the small hospital"
    # the same rows; their order only as far as the question orders them (ties may come either way)
    assert sorted(answered, key=repr) == sorted(expected, key=repr)
