"""Generated landings shared by the generator tests (each built once per session, small and fast)."""

from __future__ import annotations

from pathlib import Path

import pytest
from generate_helpers import START, Run, load

from journey_demo import GenerationReport, generate


def _run(root: Path, **kwargs: object) -> Run:
    report = generate(root / "landing", root / "record", **kwargs)  # type: ignore[arg-type]
    return Run(root / "landing", root / "record", report, load(root / "landing"))


@pytest.fixture(scope="session")
def clean(tmp_path_factory: pytest.TempPathFactory) -> Run:
    """Four weeks of a small hospital, no defects; Encounter exports split at 60 rows."""
    return _run(
        tmp_path_factory.mktemp("clean"), start=START, days=28, scale=0.1, seed=7, max_rows_per_file=60
    )


@pytest.fixture(scope="session")
def faulty(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, GenerationReport]:
    """Two weeks with 5 % of rows faulty (not parsed up front: some lines are broken on purpose)."""
    root = tmp_path_factory.mktemp("faulty")
    report = generate(
        root / "landing",
        root / "record",
        start=START,
        days=14,
        scale=0.05,
        seed=11,
        defect_rate=0.05,
        max_rows_per_file=40,
    )
    return root / "landing", root / "record", report
