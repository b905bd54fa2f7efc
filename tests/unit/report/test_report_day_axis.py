"""The daily wait chart's date ticks speak the page's language (plotly's default ticks are English)."""

from __future__ import annotations

import duckdb
import pytest

from journey.report.charts import Context, wait_trends


@pytest.mark.parametrize(("language", "tickformat"), [("zh-CN", "%-m月%-d日"), ("en", "%b %-d")])
def test_wait_chart_day_ticks_follow_the_language(language: str, tickformat: str) -> None:
    conn = duckdb.connect()
    conn.execute("create schema marts")
    conn.execute(
        "create table marts.metrics_wait_daily as select * from (values"
        " (date '2026-03-01', 'emergency', 'EMER', 30.0, 80.0, false, 20),"
        " (date '2026-03-02', 'emergency', 'EMER', 35.0, 90.0, false, 22))"
        " t(metric_date, department_code, encounter_class, door_to_provider_p50_min, door_to_provider_p90_min,"
        " door_to_provider_suppressed, door_to_provider_n)"
    )
    section = wait_trends(conn, Context(min_cell=11, timezone="Asia/Shanghai", language=language))
    assert section.figure is not None
    assert section.figure.layout.xaxis.tickformat == tickformat
    p50 = next(trace for trace in section.figure.data if str(trace.name).endswith("P50"))
    assert list(p50.y) == [30.0, 35.0]
