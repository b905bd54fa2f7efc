"""`journey mf` output: grouped queries ordered by their groups, dates as ISO dates, and only the
metrics journey allows listed (MetricFlow's own table and metric types)."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest
from metricflow.data_table.mf_column import ColumnDescription
from metricflow.data_table.mf_table import MetricFlowDataTable

from journey.transform.metricflow import allowed_metrics, iso_dates, ordered_args


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["query", "--metrics", "nps", "--group-by", "metric_time__month,encounter__department"],
         ["query", "--metrics", "nps", "--group-by", "metric_time__month,encounter__department",
          "--order", "metric_time__month,encounter__department"]),
        (["query", "--metrics=nps", "--group-by=metric_time__month"],
         ["query", "--metrics=nps", "--group-by=metric_time__month", "--order", "metric_time__month"]),
        # the analyst's own order wins; nothing to order by without groups; other commands untouched
        (["query", "--metrics", "nps", "--group-by", "metric_time__month", "--order", "-nps"],
         ["query", "--metrics", "nps", "--group-by", "metric_time__month", "--order", "-nps"]),
        (["query", "--metrics", "nps"], ["query", "--metrics", "nps"]),
        (["list", "metrics"], ["list", "metrics"]),
    ],
)
def test_grouped_queries_are_ordered_by_their_groups(args: list[str], expected: list[str]) -> None:
    assert ordered_args(args) == expected


def _table(times: list[dt.datetime | None]) -> MetricFlowDataTable:
    return MetricFlowDataTable(
        column_descriptions=(ColumnDescription("metric_time__month", dt.datetime), ColumnDescription("nps", float),
                             ColumnDescription("encounter__department", str)),
        rows=tuple((time, 12.5, "emergency") for time in times),
    )


def test_midnight_times_become_iso_dates_in_text_and_rows() -> None:
    table = iso_dates(_table([dt.datetime(2026, 1, 1), None, dt.datetime(2026, 2, 1)]))
    assert [row[0] for row in table.rows] == ["2026-01-01", None, "2026-02-01"]
    assert [row[1:] for row in table.rows] == [(12.5, "emergency")] * 3
    text = table.text_format()
    assert "2026-01-01 " in text and "T00:00:00" not in text


def test_a_time_of_day_keeps_its_time() -> None:
    times = [dt.datetime(2026, 1, 1), dt.datetime(2026, 1, 1, 13, 0)]
    assert [row[0] for row in iso_dates(_table(times)).rows] == times


def test_only_allowed_metrics_are_listed() -> None:
    metrics = [SimpleNamespace(name=name) for name in ("nps", "door_to_provider_p90_min_unsuppressed", "visits")]
    assert [metric.name for metric in allowed_metrics(metrics)] == ["nps", "visits"]
