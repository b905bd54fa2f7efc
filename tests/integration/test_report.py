"""The dashboard end to end: a tiny hospital through the real nightly flow, `journey report` on the
published warehouse, and the page loaded in headless Chromium (Debian's `chromium`): no console
errors, every chart drawn, a screenshot kept in tests/artifacts/ (git-ignored).
"""

from __future__ import annotations

import math
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from plotly.offline import get_plotlyjs
from typer.testing import CliRunner

from journey.config import Settings
from journey.generate import generate
from journey.report import charts
from journey.report.build import ReportResult, build_report
from journey.report.data import department_names
from journey.report.worklist import write_worklist

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("prefect")]

START = date(2026, 3, 2)
DAYS = 5
# The marts are built with a small-cell size of 3 (JOURNEY_MIN_CELL_SIZE, the dbt var min_cell_size;
# the dbt unit tests pin their own) so that a five-day hospital fills some weekday-hour and
# wait-quartile cells; the report is built with the same setting.
MIN_CELL = 3
EXPECTED_CHARTS = [
    "wait-trends", "arrival-heatmap", "satisfaction-trends", "satisfaction-vs-wait", "cohort-retention",
    "service-sla", "campaign-funnel",
]
# charts with a department (or campaign) menu, and those with period buttons on the time axis
WITH_MENU = ["wait-trends", "arrival-heatmap", "satisfaction-trends", "satisfaction-vs-wait", "service-sla",
             "campaign-funnel"]
WITH_PERIOD = ["wait-trends", "satisfaction-trends", "satisfaction-vs-wait", "service-sla"]
# A five-day small hospital has too few complete survey responses per department × quarter to fit the
# driver model (max(11, 10 × drivers) each); the driver chart is rendered from a synthetic fit instead.
MAY_BE_UNAVAILABLE = {"drivers"}
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"


@dataclass
class Built:
    settings: Settings
    result: ReportResult


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Built]:
    from flows.nightly import nightly

    data_dir = tmp_path_factory.mktemp("report") / "data"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("JOURNEY_DATA_DIR", str(data_dir))
        patch.setenv("JOURNEY_SECRET", "test-secret-not-for-production")
        patch.setenv("JOURNEY_MIN_CELL_SIZE", str(MIN_CELL))
        # the flow's temporary Prefect API needs longer than the 20 s default on a busy 2-core machine
        patch.setenv("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")
        settings = Settings()
        settings.ensure_dirs()
        generate(settings.landing_dir, settings.generator_dir, start=START, days=DAYS, scale=0.2, seed=11)
        run = nightly(start=START, end=START + timedelta(days=DAYS - 1), docs=False)
        assert run["status"] == "succeeded"
        yield Built(settings, build_report(settings))


def _chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    pytest.fail(
        "headless Chromium is required for the dashboard test and is not installed: "
        "run `apt-get install -y chromium` (Debian) and re-run."
    )


def _chromium_run(page: Path, *args: str) -> subprocess.CompletedProcess[str]:
    profile = page.parent / ".chromium-profile"
    cmd = [
        _chromium(), "--headless", "--disable-gpu", "--no-sandbox", "--no-first-run", "--disable-extensions",
        "--disable-dev-shm-usage", f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0",
        "--virtual-time-budget=15000", *args, page.as_uri(),
    ]
    env = {**os.environ, "HOME": str(page.parent)}
    return subprocess.run(cmd, capture_output=True, text=True, timeout=180, env=env, check=False)


def test_report_has_every_chart_one_inline_plotly_and_no_cdn(built: Built) -> None:
    result = built.result
    assert result.path == built.settings.site_dir / "report" / "index.html"
    assert set(result.unavailable) <= MAY_BE_UNAVAILABLE, f"sections without a chart: {result.unavailable}"
    assert [key for key in result.charts if key not in MAY_BE_UNAVAILABLE] == EXPECTED_CHARTS
    assert result.tables == ["kpi-status"]
    html = result.path.read_text(encoding="utf-8")
    assert html.count("Plotly.newPlot(") == len(result.charts)
    # plotly.js inlined once, nothing fetched from the network
    assert len(re.findall(r"\* plotly\.js v\d", html)) == 1
    assert not re.search(r"<script[^>]+src=", html)
    assert not re.search(r"<link[^>]+href=[\"']?https?:", html)
    # the only CDN address is plotly.js's unused default for geo maps (topojsonURL), inside the bundle
    assert html.count("cdn.plot.ly") == get_plotlyjs().count("cdn.plot.ly") == 1
    assert result.size_bytes < 8_000_000
    for key in result.charts:
        assert f"journey-{key}" in html, "each chart's PNG download is named after it"


def test_report_renders_in_headless_chromium_without_console_errors(built: Built) -> None:
    page = built.result.path
    dumped = _chromium_run(page, "--dump-dom")
    assert dumped.returncode == 0, dumped.stderr[-3000:]
    console = [line for line in dumped.stderr.splitlines() if ":CONSOLE" in line]
    assert console == [], "the page wrote to the browser console:\n" + "\n".join(console)
    dom = dumped.stdout
    starts = sorted((dom.index(f'id="chart-{key}"'), key) for key in built.result.charts)
    for (start, key), (end, _) in zip(starts, [*starts[1:], (len(dom), "")], strict=True):
        assert 'class="main-svg"' in dom[start:end], f"chart {key} did not render an SVG"
        if key in WITH_MENU:
            assert 'class="updatemenu-container"' in dom[start:end], f"chart {key} has no department menu"
        if key in WITH_PERIOD:
            assert 'class="rangeselector"' in dom[start:end], f"chart {key} has no period buttons"
    assert dom.count('class="num status-cell"') >= 1, "the KPI table has cells coloured by status"

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / "report.png"
    shot.unlink(missing_ok=True)
    taken = _chromium_run(page, f"--screenshot={shot}", "--window-size=1400,5200", "--hide-scrollbars")
    assert taken.returncode == 0, taken.stderr[-3000:]
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert shot.stat().st_size > 50_000, "a screenshot of drawn charts, not a blank page"


def test_driver_chart_renders_in_headless_chromium(tmp_path: Path) -> None:
    """The driver chart, from a synthetic fit (the tiny hospital has too few responses to fit one)."""
    import numpy as np

    from journey.report.drivers import driver_table
    from journey.report.page import render_page

    rng = np.random.default_rng(1)
    respondents = pd.DataFrame({
        "department_code": "emergency", "visit_quarter": "2026Q1", "door_to_provider_min": rng.uniform(5, 120, 200),
        "cleanliness_score": rng.integers(1, 5, 200).astype(float),
    })
    respondents["nps_score"] = 10 - respondents["door_to_provider_min"] / 20 + rng.normal(0, 1, 200)
    respondents["is_overall_top_box"] = (respondents["nps_score"] >= 8).astype(float)
    ctx = charts.Context(min_cell=11, timezone="UTC")
    section = charts.Section("drivers", "Drivers", "definition", "units",
                             figure=charts.driver_figure(driver_table(respondents), ctx))
    page = tmp_path / "drivers.html"
    page.write_text(render_page([section], subtitle=["synthetic"]), encoding="utf-8")
    dumped = _chromium_run(page, "--dump-dom")
    assert dumped.returncode == 0, dumped.stderr[-3000:]
    assert [line for line in dumped.stderr.splitlines() if ":CONSOLE" in line] == []
    assert 'class="main-svg"' in dumped.stdout.split('id="chart-drivers"', 1)[1]


def test_suppressed_cells_are_never_plotted(built: Built) -> None:
    conn = duckdb.connect(str(built.settings.warehouse_path), read_only=True)
    try:
        ctx = charts.Context(min_cell=MIN_CELL, timezone=built.settings.timezone)
        figure = charts.wait_trends(conn, ctx).figure
        mart = conn.execute(
            """select metric_date, door_to_provider_p50_min, door_to_provider_suppressed, door_to_provider_n
               from marts.metrics_wait_daily"""
        ).df()
    finally:
        conn.close()
    assert figure is not None
    suppressed = mart[mart["door_to_provider_suppressed"]]
    assert len(suppressed) > 0, "the fixture should produce suppressed cells to test against"
    assert (suppressed["door_to_provider_n"] < MIN_CELL).all()
    published = mart["door_to_provider_p50_min"].notna().sum()
    p50_traces = [trace for trace in figure.data if trace.name.endswith(" p50")]
    plotted = sum(sum(1 for y in trace.y if y is not None and not math.isnan(y)) for trace in p50_traces)
    assert plotted == published, "every published p50 is plotted once, and nothing else"


def test_arrival_heatmap_cell_matches_fct_encounters(built: Built) -> None:
    """The busiest ED weekday-hour of the chart (from metrics_wait_by_arrival_hour) recomputed from
    fct_encounters in pandas, local hour and weekday by hand."""
    conn = duckdb.connect(str(built.settings.warehouse_path), read_only=True)
    try:
        ctx = charts.Context(min_cell=MIN_CELL, timezone=built.settings.timezone,
                             names={"emergency": "Emergency"})
        figure = charts.arrival_heatmap(conn, ctx).figure
        rows = conn.execute(
            """select arrived_at, door_to_provider_min from marts.fct_encounters
               where encounter_class = 'EMER' and is_visit and not is_lwbs and door_to_provider_min is not null"""
        ).df()
    finally:
        conn.close()
    assert figure is not None and len(rows) > 0
    local = pd.to_datetime(rows["arrived_at"]).dt.tz_localize("UTC").dt.tz_convert(built.settings.timezone)
    rows = rows.assign(weekday=local.dt.dayofweek, hour=local.dt.hour)
    sizes = rows.groupby(["weekday", "hour"]).size()
    busiest = sizes.idxmax()
    assert sizes[busiest] >= MIN_CELL, "the fixture should publish its busiest ED weekday-hour"
    expected = rows[(rows["weekday"] == busiest[0]) & (rows["hour"] == busiest[1])]["door_to_provider_min"]
    ed = [trace for trace in figure.data if trace.name == "Emergency · EMER"]
    assert len(ed) == 1 and ed[0].visible, "the ED heatmap is shown first"
    assert ed[0].z[busiest[0]][busiest[1]] == pytest.approx(expected.median(), abs=0.01)
    assert ed[0].customdata[busiest[0]][busiest[1]][0] == pytest.approx(expected.quantile(0.9), abs=0.01)


def test_department_menus_show_only_that_departments_traces(built: Built) -> None:
    conn = duckdb.connect(str(built.settings.warehouse_path), read_only=True)
    try:
        ctx = charts.Context(min_cell=MIN_CELL, timezone=built.settings.timezone,
                             names=department_names(conn))
        figures = {
            "wait-trends": charts.wait_trends(conn, ctx).figure,
            "satisfaction-trends": charts.satisfaction_trends(conn, ctx).figure,
            "satisfaction-vs-wait": charts.satisfaction_vs_wait(conn, ctx).figure,
            "service-sla": charts.service_sla(conn, ctx).figure,
        }
    finally:
        conn.close()
    for key, figure in figures.items():
        assert figure is not None, key
        assert [button.label for button in figure.layout.xaxis.rangeselector.buttons][-1] == "All", key
        menu = figure.layout.updatemenus[0]
        assert len(menu.buttons) >= 2, key
        for button in menu.buttons:
            visible = button.args[0]["visible"]
            shown = [trace for trace, on in zip(figure.data, visible, strict=True) if on]
            assert shown, f"{key}: {button.label} shows nothing"
            if button.label == "All departments":
                assert len(shown) == len(figure.data)
            else:  # every trace's hover starts with its department's name
                assert all(trace.hovertemplate.startswith(button.label) for trace in shown), (key, button.label)


def test_campaign_menu_narrows_the_funnel_to_a_quarter(built: Built) -> None:
    conn = duckdb.connect(str(built.settings.warehouse_path), read_only=True)
    try:
        figure = charts.campaign_funnel(conn, charts.Context(min_cell=MIN_CELL, timezone="UTC")).figure
        by_quarter = conn.execute(
            """select strftime(start_date, '%Y') || 'Q' || quarter(start_date), sum(impressions), sum(attended)
               from marts.metrics_campaign where start_date is not null group by 1 order by 1"""
        ).fetchall()
    finally:
        conn.close()
    assert figure is not None and by_quarter
    buttons = {button.label: button.args[0]["visible"] for button in figure.layout.updatemenus[0].buttons}
    for quarter, impressions, attended in by_quarter:
        visible = buttons[f"Campaigns started {quarter}"]
        funnels = [trace for trace, on in zip(figure.data, visible, strict=True) if on and trace.type == "funnel"]
        assert len(funnels) == 1
        counts = dict(zip(funnels[0].y, funnels[0].x, strict=True))
        assert counts["Impressions"] == impressions and counts["Attended"] == attended


def test_worklist_on_the_real_warehouse_names_encounters_never_patients(built: Built) -> None:
    run_date = START + timedelta(days=DAYS - 1)
    path, frame = write_worklist(built.settings, run_date)
    conn = duckdb.connect(str(built.settings.warehouse_path), read_only=True)
    try:
        detractors = conn.execute(
            "select count(*) from marts.fct_survey_responses where authored_local_date = ? and nps_score <= 6 "
            "and is_completed", [run_date - timedelta(days=1)],
        ).fetchone()
        complaints = conn.execute(
            "select count(*) from marts.fct_complaints where received_local_date = ?", [run_date - timedelta(days=1)]
        ).fetchone()
        keys = {row[0] for row in conn.execute("select distinct patient_key from marts.fct_encounters").fetchall()}
        encounters = {row[0] for row in conn.execute("select encounter_id from marts.fct_encounters").fetchall()}
    finally:
        conn.close()
    assert detractors is not None and complaints is not None
    assert (frame["reasons"].str.contains("detractor")).sum() == detractors[0]
    assert (frame["source"] == "complaint").sum() == complaints[0]
    assert set(frame["encounter_id"].dropna()) <= encounters
    text = path.read_text(encoding="utf-8-sig")
    assert not any(key in text for key in keys if key and key != "unknown")


def test_cli_report_command(built: Built, monkeypatch: pytest.MonkeyPatch) -> None:
    from journey.cli import app

    monkeypatch.setenv("JOURNEY_DATA_DIR", str(built.settings.root))
    monkeypatch.setenv("JOURNEY_MIN_CELL_SIZE", str(MIN_CELL))
    out = built.settings.root / "elsewhere" / "dashboard.html"
    result = CliRunner().invoke(app, ["report", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert f"dashboard: {out}" in result.output and f"{len(built.result.charts)} charts" in result.output
    assert out.is_file()
