"""The dbt unit tests (hand-computed fixtures for the metric logic, `unit_tests:` in models/**.yml) pass.

The nightly build leaves them out (they test SQL, not the night's data); this is where they run. They
need their input relations to exist for column types, so they run on the shared small hospital.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from journey.config import Settings
from journey.transform.dbt import run_dbt

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("small_hospital")]

MODELS = Path(__file__).resolve().parents[2] / "models"


def _declared_unit_tests() -> set[str]:
    names: set[str] = set()
    for path in MODELS.rglob("*.yml"):
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        names |= {str(test["name"]) for test in document.get("unit_tests", [])}
    return names


def test_every_dbt_unit_test_runs_and_passes(small_hospital: Settings) -> None:
    declared = _declared_unit_tests()
    assert len(declared) >= 19, "the metric logic keeps its hand-computed unit tests"

    result = run_dbt(small_hospital, small_hospital.work_path, "test", "--select", "test_type:unit")

    assert (result.succeeded, result.failed, result.skipped) == (len(declared), 0, 0), result.failures
