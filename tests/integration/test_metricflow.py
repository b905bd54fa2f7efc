"""The governed metric layer: MetricFlow answers exactly what the metrics_* contract tables publish.

On the shared small hospital (tests/integration/conftest.py: built once, min_cell_size 5), real
MetricFlow queries for every core metric at its table's grain — the engine in one subprocess for all of
them (journey.transform.metricflow, the same workspace as `journey mf`), and the analyst's command
`journey mf query` once, with every non-loopback connection refused — must equal the tables: counts
and rates exactly (the same double division), NPS, top-box % and p90 within the tables' rounding to 2
decimals. The semantic manifest is rendered with the run's min_cell_size, so suppressed cells are NULL
in both. A monthly p90 (no table has one) is checked against numpy's linear-interpolation percentile.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pytest

from journey.config import Settings

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("small_hospital")]

PROJECT = Path(__file__).resolve().parents[2]
GUARD = Path(__file__).resolve().parent / "netguard"
ROUNDED = 0.005 + 1e-9  # the tables round NPS, percentages and percentiles to 2 decimals

# name: (metrics, group by) — each at its metrics_* table's grain
QUERIES: dict[str, tuple[list[str], list[str]]] = {
    "wait": (["visits", "lwbs_visits", "lwbs_rate", "door_to_provider_visits", "door_to_provider_p90_min"],
             ["metric_time__day", "encounter__department", "encounter__encounter_class"]),
    "no_show": (["no_shows", "no_show_eligible_appointments", "no_show_rate"],
                ["metric_time__day", "appointment__department", "appointment__encounter_class"]),
    "satisfaction": (["nps_responses", "nps_promoters", "nps_detractors", "nps", "overall_responses",
                      "overall_top_box_responses", "overall_top_box_pct"],
                     ["metric_time__month", "encounter__department"]),
    "returns": (["return_30d_eligible_visits", "returns_30d", "return_rate_30d"],
                ["metric_time__month", "encounter__department"]),
    "follow_up": (["follow_up_eligible_discharges", "follow_up_on_time_discharges", "follow_up_on_time_rate"],
                  ["metric_time__month", "follow_up__department", "follow_up__planned_day"]),
    "complaints": (["complaint_response_eligible", "complaints_responded_within_24h", "complaint_response_24h_rate"],
                   ["metric_time__month", "complaint__department"]),
    "wait_monthly": (["door_to_provider_visits", "door_to_provider_p90_min_unsuppressed", "door_to_provider_p90_min",
                      "visits", "lwbs_visits", "lwbs_rate"],
                     ["metric_time__month", "encounter__department"]),
}

# The engine in its own process: dbt-duckdb opens the file with another configuration than this
# process's read-only connections, which DuckDB refuses within one process.
ENGINE_SCRIPT = """
import json, sys
from pathlib import Path
from journey.config import Settings
from journey.transform.metricflow import metricflow_engine
from metricflow.engine.metricflow_engine import MetricFlowQueryRequest

settings = Settings()
engine = metricflow_engine(settings, settings.work_path)
answers = {}
for name, (metrics, group_by) in json.loads(Path(sys.argv[1]).read_text()).items():
    table = engine.query(MetricFlowQueryRequest.create(metric_names=metrics, group_by_names=group_by)).result_df
    answers[name] = [dict(zip(table.column_names, row)) for row in table.rows]
Path(sys.argv[2]).write_text(json.dumps(answers, default=str))
"""

Cell = dict[str, Any]


def _day(value: object) -> date | None:
    return None if value is None else datetime.fromisoformat(str(value)).date()


def _keyed(rows: list[Cell], keys: Sequence[str]) -> dict[tuple[Any, ...], Cell]:
    keyed: dict[tuple[Any, ...], Cell] = {}
    for row in rows:
        key = tuple(_day(row[k]) if k.startswith("metric_time") else row[k] for k in keys)
        assert key not in keyed, f"MetricFlow returned {key} twice"
        keyed[key] = row
    return keyed


def _table(conn: duckdb.DuckDBPyConnection, sql: str) -> list[Cell]:
    result = conn.execute(sql)
    names = [column[0] for column in result.description]
    return [dict(zip(names, row, strict=True)) for row in result.fetchall()]


def _close(actual: object, expected: object, tolerance: float) -> bool:
    if actual is None or expected is None:
        return actual is None and expected is None
    return abs(float(actual) - float(expected)) <= tolerance  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def answers(small_hospital: Settings, tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[Cell]]:
    folder = tmp_path_factory.mktemp("metricflow")
    (folder / "queries.json").write_text(json.dumps(QUERIES))
    env = {**os.environ, "JOURNEY_DATA_DIR": str(small_hospital.root)}
    proc = subprocess.run(
        [sys.executable, "-c", ENGINE_SCRIPT, str(folder / "queries.json"), str(folder / "answers.json")],
        env=env, capture_output=True, text=True, timeout=600, check=False,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    loaded: dict[str, list[Cell]] = json.loads((folder / "answers.json").read_text())
    return loaded


@pytest.fixture(scope="module")
def conn(small_hospital: Settings) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(str(small_hospital.work_path), read_only=True)


def _compare(
    table_rows: list[Cell], mf_rows: list[Cell], keys: Sequence[str], counts: Sequence[str],
    exact: Sequence[str] = (), rounded: Sequence[str] = (),
) -> dict[tuple[Any, ...], Cell]:
    """Every table cell equals MetricFlow's (a cell MetricFlow lacks has zero counts); return the
    MetricFlow cells the table does not have."""
    answered = _keyed(mf_rows, keys)
    for row in table_rows:
        key = tuple(row[f"key_{index}"] for index in range(len(keys)))
        mf = answered.pop(key, {})
        for name in counts:
            assert int(mf.get(name) or 0) == row[name], (key, name, mf.get(name), row[name])
        for name in exact:
            assert mf.get(name) == row[name], (key, name, mf.get(name), row[name])
        for name in rounded:
            assert _close(mf.get(name), row[name], ROUNDED), (key, name, mf.get(name), row[name])
    return answered


def _published_cells(table_rows: list[Cell], rate: str) -> tuple[int, int]:
    """(cells with a published rate, suppressed cells): both kinds must be present for a real test."""
    return (sum(row[rate] is not None for row in table_rows),
            sum(row[rate] is None and row["n"] > 0 for row in table_rows))


def test_wait_metrics_per_day_equal_metrics_wait_daily(conn: duckdb.DuckDBPyConnection, answers: dict) -> None:
    rows = _table(conn, """
        select metric_date as key_0, department_code as key_1, encounter_class as key_2,
               encounters as visits, lwbs_encounters as lwbs_visits, lwbs_rate,
               door_to_provider_n as door_to_provider_visits, door_to_provider_p90_min, encounters as n
        from marts.metrics_wait_daily""")
    extra = _compare(rows, answers["wait"], QUERIES["wait"][1],
                     counts=["visits", "lwbs_visits", "door_to_provider_visits"],
                     exact=["lwbs_rate"], rounded=["door_to_provider_p90_min"])
    # MetricFlow's other cells hold only encounters that are not visits (or have no arrival day)
    assert all(cell["visits"] == 0 or cell["metric_time__day"] is None for cell in extra.values())
    published, suppressed = _published_cells(rows, "lwbs_rate")
    assert published > 0 and suppressed > 0
    assert sum(row["lwbs_visits"] for row in rows) > 0


def test_no_show_rate_per_day_equals_metrics_wait_daily(conn: duckdb.DuckDBPyConnection, answers: dict) -> None:
    rows = _table(conn, """
        select metric_date as key_0, department_code as key_1, encounter_class as key_2,
               no_shows, no_show_n as no_show_eligible_appointments, no_show_rate, no_show_n as n
        from marts.metrics_wait_daily""")
    extra = _compare(rows, answers["no_show"], QUERIES["no_show"][1],
                     counts=["no_shows", "no_show_eligible_appointments"], exact=["no_show_rate"])
    # the table stops at the last day any source recorded: later appointments have no final outcome yet
    last_day = max(row["key_0"] for row in rows)
    assert all(cell["no_show_eligible_appointments"] == 0 or key[0] is None or key[0] > last_day
               for key, cell in extra.items())
    published, suppressed = _published_cells(rows, "no_show_rate")
    assert published > 0 and suppressed > 0
    assert sum(row["no_shows"] for row in rows) > 0


def test_nps_and_top_box_per_month_equal_metrics_satisfaction_monthly(
    conn: duckdb.DuckDBPyConnection, answers: dict,
) -> None:
    rows = _table(conn, """
        select month_start_date as key_0, department_code as key_1, nps_responses, promoters as nps_promoters,
               detractors as nps_detractors, nps, overall_responses, overall_top_box_responses,
               overall_top_box_pct, nps_responses as n
        from marts.metrics_satisfaction_monthly""")
    extra = _compare(rows, answers["satisfaction"], QUERIES["satisfaction"][1],
                     counts=["nps_responses", "nps_promoters", "nps_detractors", "overall_responses",
                             "overall_top_box_responses"],
                     rounded=["nps", "overall_top_box_pct"])
    assert all(cell["nps_responses"] == 0 and cell["overall_responses"] == 0 for cell in extra.values())
    published, suppressed = _published_cells(rows, "nps")
    assert published > 0 and suppressed > 0


def test_return_rate_per_month_equals_metrics_loyalty_monthly(conn: duckdb.DuckDBPyConnection, answers: dict) -> None:
    rows = _table(conn, """
        select month_start_date as key_0, department_code as key_1, return_30d_n as return_30d_eligible_visits,
               returns_30d, return_rate_30d, return_30d_n as n
        from marts.metrics_loyalty_monthly""")
    extra = _compare(rows, answers["returns"], QUERIES["returns"][1],
                     counts=["return_30d_eligible_visits", "returns_30d"], exact=["return_rate_30d"])
    assert all(cell["return_30d_eligible_visits"] == 0 for cell in extra.values())
    assert _published_cells(rows, "return_rate_30d")[0] > 0
    assert sum(row["returns_30d"] for row in rows) > 0


@pytest.mark.parametrize("planned_day", [3, 7, 30])
def test_follow_up_completion_per_month_equals_metrics_loyalty_monthly(
    conn: duckdb.DuckDBPyConnection, answers: dict, planned_day: int,
) -> None:
    rows = _table(conn, f"""
        select month_start_date as key_0, department_code as key_1, {planned_day} as key_2,
               follow_up_day{planned_day}_eligible as follow_up_eligible_discharges,
               follow_up_day{planned_day}_on_time as follow_up_on_time_discharges,
               follow_up_day{planned_day}_on_time_rate as follow_up_on_time_rate,
               follow_up_day{planned_day}_eligible as n
        from marts.metrics_loyalty_monthly""")
    mf_rows = [cell for cell in answers["follow_up"] if cell["follow_up__planned_day"] == planned_day]
    extra = _compare(rows, mf_rows, QUERIES["follow_up"][1],
                     counts=["follow_up_eligible_discharges", "follow_up_on_time_discharges"],
                     exact=["follow_up_on_time_rate"])
    assert all(cell["follow_up_eligible_discharges"] == 0 for cell in extra.values())
    assert sum(row["follow_up_eligible_discharges"] for row in rows) > 0


def test_complaint_response_per_month_equals_metrics_loyalty_monthly(
    conn: duckdb.DuckDBPyConnection, answers: dict,
) -> None:
    rows = _table(conn, """
        select month_start_date as key_0, department_code as key_1,
               complaint_response_n as complaint_response_eligible, complaints_responded_within_24h,
               complaint_response_24h_rate, complaint_response_n as n
        from marts.metrics_loyalty_monthly""")
    extra = _compare(rows, answers["complaints"], QUERIES["complaints"][1],
                     counts=["complaint_response_eligible", "complaints_responded_within_24h"],
                     exact=["complaint_response_24h_rate"])
    assert all(cell["complaint_response_eligible"] == 0 for cell in extra.values())
    assert sum(row["complaint_response_eligible"] for row in rows) > 0


def test_monthly_p90_and_lwbs_rate_are_computed_over_the_month_not_averaged(
    conn: duckdb.DuckDBPyConnection, answers: dict, small_hospital: Settings,
) -> None:
    """No table publishes a monthly p90: hand-compute it from the visits (linear interpolation, as
    quantile_cont) and the monthly LWBS rate from the daily counts."""
    waits: dict[tuple[date, str], list[float]] = {}
    for day, department, minutes in conn.execute(
        "select arrived_local_date, department_code, door_to_provider_min from marts.fct_encounters "
        "where is_visit and is_lwbs is not true and door_to_provider_min is not null and arrived_local_date is not null"
    ).fetchall():
        waits.setdefault((day.replace(day=1), department), []).append(float(minutes))
    daily = _table(conn, "select date_trunc('month', metric_date) as month, department_code, "
                         "sum(encounters) as visits, sum(lwbs_encounters) as lwbs from marts.metrics_wait_daily "
                         "group by all")
    monthly = _keyed(answers["wait_monthly"], QUERIES["wait_monthly"][1])
    for key, values in waits.items():
        cell = monthly[key]
        expected = float(np.percentile(values, 90))
        assert cell["door_to_provider_visits"] == len(values)
        assert cell["door_to_provider_p90_min_unsuppressed"] == pytest.approx(expected, abs=1e-9)
        published = len(values) >= small_hospital.min_cell_size
        assert cell["door_to_provider_p90_min"] == (pytest.approx(expected, abs=1e-9) if published else None)
    for row in daily:
        month = row["month"].date() if isinstance(row["month"], datetime) else row["month"]
        cell = monthly.get((month, row["department_code"]), {"visits": 0, "lwbs_visits": 0, "lwbs_rate": None})
        assert (cell["visits"], cell["lwbs_visits"]) == (row["visits"], row["lwbs"])
        expected_rate = row["lwbs"] / row["visits"] if row["visits"] >= small_hospital.min_cell_size else None
        assert cell["lwbs_rate"] == expected_rate
    assert any(len(values) >= small_hospital.min_cell_size for values in waits.values())


def test_journey_mf_query_answers_the_issue_example_offline(
    small_hospital: Settings, conn: duckdb.DuckDBPyConnection, tmp_path: Path,
) -> None:
    """The analyst's command, on the published warehouse, with every non-loopback connection refused
    (tests/integration/netguard): the answer equals the table, and nothing tried to reach PyPI."""
    if not small_hospital.warehouse_path.exists():  # publish a copy (the fixture builds in place)
        shutil.copyfile(small_hospital.work_path, small_hospital.warehouse_path)
    log, out = tmp_path / "net.jsonl", tmp_path / "nps.csv"
    env = {**os.environ, "JOURNEY_DATA_DIR": str(small_hospital.root), "JOURNEY_NETGUARD_LOG": str(log),
           "PYTHONPATH": os.pathsep.join([str(GUARD), str(PROJECT)])}
    proc = subprocess.run(
        [str(Path(sys.executable).with_name("journey")), "mf", "query", "--metrics", "nps",
         "--group-by", "metric_time__month,encounter__department", "--csv", str(out)],
        env=env, capture_output=True, text=True, timeout=600, check=False,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    # output into a pipe carries no spinner frames ("\r⠋ Initiating query…\r⠙ …")
    assert "Initiating query" not in proc.stdout, proc.stdout[-500:]
    events = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert [event for event in events if event["event"] == "refused"] == []
    with out.open(newline="", encoding="utf-8") as handle:
        answered = {(_day(row["metric_time__month"]), row["encounter__department"]):
                    (float(row["nps"]) if row["nps"] else None) for row in csv.DictReader(handle)}
    expected = {(month, department): nps for month, department, nps in conn.execute(
        "select month_start_date, department_code, nps from marts.metrics_satisfaction_monthly "
        "where nps_responses > 0").fetchall()}
    assert answered.keys() == expected.keys()
    assert all(_close(answered[key], expected[key], ROUNDED) for key in expected)
    assert any(value is not None for value in expected.values())
