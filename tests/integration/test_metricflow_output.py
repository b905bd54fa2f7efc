"""`journey mf` as the analyst sees it on the shared small hospital: a grouped query prints ISO dates
in group order, and `mf list metrics` names only metrics journey answers."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from journey.config import Settings

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("small_hospital")]


def _journey_mf(settings: Settings, *args: str) -> str:
    if not settings.warehouse_path.exists():  # publish a copy (the fixture builds in place)
        shutil.copyfile(settings.work_path, settings.warehouse_path)
    env = {**os.environ, "JOURNEY_DATA_DIR": str(settings.root)}
    proc = subprocess.run([str(Path(sys.executable).with_name("journey")), "mf", *args], env=env,
                          capture_output=True, text=True, timeout=600, check=False)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout


def test_grouped_query_prints_iso_dates_in_group_order(small_hospital: Settings) -> None:
    out = _journey_mf(small_hospital, "query", "--metrics", "nps", "--group-by",
                      "metric_time__month,encounter__department")
    rows = [line.split()[:2] for line in out.splitlines() if re.match(r"^\d{4}-\d{2}-\d{2}\s", line)]
    assert len(rows) >= 10  # 10 departments over two months of the 33-day hospital
    assert "T00:00:00" not in out
    assert all(re.fullmatch(r"\d{4}-\d{2}-01", month) for month, _ in rows)
    assert rows == sorted(rows), "ordered by month, then department"


def test_list_metrics_names_only_allowed_metrics(small_hospital: Settings) -> None:
    out = _journey_mf(small_hospital, "list", "metrics")
    assert "nps" in out and "door_to_provider_p90_min" in out
    assert "_unsuppressed" not in out
