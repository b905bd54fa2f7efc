"""The KPI tiles and the page shell on hand-made rows: what a manager reads, in both languages."""

from __future__ import annotations

from datetime import date

import pandas as pd
import plotly.graph_objects as go

from journey.report import kpi_view, shaping
from journey.report.charts import Context, Section
from journey.report.page import Filter, render_page


def _rows() -> pd.DataFrame:
    frame = pd.DataFrame({
        "month_start_date": [date(2026, 2, 1), date(2026, 3, 1), date(2026, 4, 1)],
        "department_code": "emergency", "kpi_code": "response_rate", "kpi_value": [0.20, 0.232, 0.5],
        "target_value": 0.25, "kpi_status": ["off_track", "at_risk", "on_track"], "unit": "rate",
        "direction": "higher_is_better",
    })
    return shaping.kpi_changes(frame, data_end=date(2026, 4, 4))


def _tiles(html: str, month: str) -> str:
    return html.split(f"data-department='emergency' data-month='{month}' hidden>", 1)[1].split("</div></div>", 1)[0]


def test_tiles_show_month_value_target_and_change_in_english() -> None:
    html = kpi_view.render(_rows(), Context(min_cell=11, timezone="UTC", names={"emergency": "Emergency"}))
    march = _tiles(html, "2026-03")
    assert "Mar 2026" in march and "23.2 %" in march and "Target 25.0 %" in march
    assert "vs last month +3.2 pp" in march and "at risk" in march
    april = _tiles(html, "2026-04")  # data ends 4 April: partial, never compared
    assert "partial" in april and "no full month to compare" in april and "vs last month" not in april
    assert html.count("class='matrix'") == 3


def test_tiles_in_chinese() -> None:
    ctx = Context(min_cell=11, timezone="Asia/Shanghai", language="zh-CN", names={"emergency": "急诊科"})
    march = _tiles(kpi_view.render(_rows(), ctx), "2026-03")
    assert "2026年3月" in march and "23.2%" in march and "目标 25.0%" in march
    assert "环比 +3.2 个百分点" in march and "问卷回复率" in march and "预警" in march


def test_page_has_one_filter_and_tagged_traces() -> None:
    figure = go.Figure(go.Scatter(x=[1], y=[2], meta={"department": "emergency"}))
    page = render_page(
        [Section("wait-trends", "标题", "定义", "分钟", figure=figure, time_axis="daily")], subtitle=["s"],
        choice=Filter(departments=[("emergency", "急诊科")], months=[("2026-03", "2026年3月")],
                      department="emergency", month="2026-03"),
        language="zh-CN",
    )
    assert "<html lang='zh-CN'>" in page
    assert page.count("<select") == 3 and "<option value='emergency' selected>急诊科</option>" in page
    assert "<option value='hospital'>全院</option>" in page
    assert "data-chart data-time='daily'" in page and '"meta":{"department":"emergency"}' in page
    assert "Microsoft YaHei" in page and "@page { size: A4 landscape" in page
