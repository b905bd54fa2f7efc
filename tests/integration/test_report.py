"""The dashboard end to end: a tiny hospital through the real nightly flow, `journey report` on the
published warehouse in both languages, and the pages driven in headless Chromium (Debian's
`chromium`) over the DevTools protocol: no console errors, every chart drawn, the page-wide filter
changing every chart, nothing wider than a 390 px phone, a screenshot kept in tests/artifacts/
(git-ignored).
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest
from plotly.offline import get_plotlyjs
from typer.testing import CliRunner
from websockets.sync.client import connect

from journey.config import Settings
from journey.report import charts, messages
from journey.report.build import ReportResult, build_report
from journey.report.worklist import write_worklist
from journey_demo import generate

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("prefect")]

# five days across a month end: February complete, March the partial month
START = date(2026, 2, 26)
DAYS = 5
# The marts are built with a small-cell size of 3 (JOURNEY_MIN_CELL_SIZE, the dbt var min_cell_size;
# the dbt unit tests pin their own) so that a five-day hospital fills some weekday-hour and
# wait-quartile cells; the report is built with the same setting.
MIN_CELL = 3
EXPECTED_CHARTS = [
    "wait-trends", "arrival-heatmap", "satisfaction-trends", "satisfaction-vs-wait", "cohort-retention",
    "service-sla", "campaign-funnel",
]
# charts the page-wide department filter narrows (cohort retention is hospital-wide)
BY_DEPARTMENT = ["wait-trends", "arrival-heatmap", "satisfaction-trends", "satisfaction-vs-wait", "service-sla",
                 "campaign-funnel"]
# A five-day small hospital has too few complete survey responses per department × quarter to fit the
# driver model (max(11, 10 × drivers) each); the driver chart is rendered from a synthetic fit instead.
MAY_BE_UNAVAILABLE = {"drivers"}
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"


@dataclass
class Built:
    settings: Settings
    result: ReportResult  # the default language: zh-CN (the hospital is in Asia/Shanghai)
    english: ReportResult


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
        english = build_report(settings, out=settings.site_dir / "report" / "index.en.html", language="en")
        yield Built(settings, build_report(settings), english)


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


class Tab:
    """One headless-Chromium tab driven over the DevTools protocol."""

    def __init__(self, socket: Any) -> None:
        self.socket = socket
        self.events: list[dict[str, Any]] = []
        self._id = 0

    def call(self, method: str, **params: object) -> dict[str, Any]:
        self._id += 1
        self.socket.send(json.dumps({"id": self._id, "method": method, "params": params}))
        while True:
            message = json.loads(self.socket.recv(timeout=120))
            if message.get("id") == self._id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})  # type: ignore[no-any-return]
            self.events.append(message)

    def evaluate(self, expression: str) -> Any:
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in result:
            raise AssertionError(f"{expression[:200]}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def wait_for(self, expression: str, seconds: float = 120) -> None:
        deadline = time.monotonic() + seconds
        while not self.evaluate(expression):
            if time.monotonic() > deadline:
                raise AssertionError(f"never true in the page: {expression}")
            time.sleep(0.25)

    def errors(self) -> list[str]:
        found = []
        for event in self.events:
            if event.get("method") == "Runtime.exceptionThrown":
                found.append(json.dumps(event["params"]["exceptionDetails"])[:500])
            elif event.get("method") == "Runtime.consoleAPICalled" and event["params"]["type"] in ("error", "warning"):
                found.append(json.dumps(event["params"]["args"])[:500])
        return found


@contextmanager
def open_tab(chromium: str, page: Path, *, width: int, height: int = 900) -> Iterator[Tab]:
    profile = Path(tempfile.mkdtemp(prefix="journey-chromium-"))
    cmd = [chromium, "--headless", "--disable-gpu", "--no-sandbox", "--no-first-run", "--disable-extensions",
           "--disable-dev-shm-usage", f"--user-data-dir={profile}", "--remote-debugging-port=0",
           "--remote-allow-origins=*", "about:blank"]
    process = subprocess.Popen(cmd, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True,
                               env={"HOME": str(profile), "PATH": "/usr/bin:/bin"})
    try:
        assert process.stderr is not None
        port = None
        for line in process.stderr:
            found = re.search(r"DevTools listening on ws://127\.0\.0\.1:(\d+)/", line)
            if found:
                port = int(found.group(1))
                break
        assert port is not None, "Chromium did not open its DevTools port"
        threading.Thread(target=process.stderr.read, daemon=True).start()  # keep the pipe drained
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=30) as response:
            targets = json.load(response)
        url = next(target["webSocketDebuggerUrl"] for target in targets if target["type"] == "page")
        with connect(url, max_size=None, open_timeout=30) as socket:
            tab = Tab(socket)
            tab.call("Runtime.enable")
            tab.call("Page.enable")
            tab.call("Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1,
                     mobile=width < 600)
            tab.call("Page.navigate", url=page.as_uri())
            tab.wait_for("document.readyState === 'complete' && location.hash.indexOf('department=') > 0")
            yield tab
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
        shutil.rmtree(profile, ignore_errors=True)


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
    p50_traces = [trace for trace in figure.data if trace.name.endswith(" P50")]
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
    assert len(ed) == 1 and ed[0].meta["department"] == "emergency", "one ED heatmap, for the filter"
    assert ed[0].z[busiest[0]][busiest[1]] == pytest.approx(expected.median(), abs=0.01)
    assert ed[0].customdata[busiest[0]][busiest[1]][0] == pytest.approx(expected.quantile(0.9), abs=0.01)


# What the page shows, read back from the browser: per chart, its visible traces (department, name,
# the sum of their numbers), whether the "nothing for this choice" note shows, and the x range.
SHOWN = """(() => {
  const values = a => a == null ? [] : Array.from(a._inputArray || a).flat(2)
    .filter(v => typeof v === 'number' && !Number.isNaN(v));
  const out = {};
  document.querySelectorAll('section[data-chart]').forEach(section => {
    const div = section.querySelector('.js-plotly-plot');
    out[section.id] = {
      traces: div.data.filter(t => t.visible !== false).map(t => ({
        department: (t.meta || {}).department || null, name: t.name || '', type: t.type,
        x: values(t.x), y: values(t.y), z: values(t.z)})),
      empty: !section.querySelector('.filter-empty').hidden,
      note: section.querySelector('.filter-empty').textContent,
      range: (div.layout.xaxis || {}).range || null,
    };
  });
  const tiles = [...document.querySelectorAll('.tiles')].filter(el => !el.hidden);
  out.tiles = tiles.map(el => ({department: el.dataset.department, month: el.dataset.month,
    values: Object.fromEntries([...el.querySelectorAll('.tile')].map(tile => [tile.dataset.kpi,
      tile.querySelector('.tile-value').textContent]))}));
  out.matrix = [...document.querySelectorAll('.matrix')].filter(el => !el.hidden).map(el => el.dataset.month);
  return out;
})()"""


def _choose(tab: Tab, department: str, start: str | None = None, end: str | None = None) -> dict[str, Any]:
    """Pick the page-wide filter as a manager would (the selects' change events) and read the page back."""
    script = [f"const d = document.getElementById('f-department'); d.value = {json.dumps(department)};"
              "d.dispatchEvent(new Event('change'));"]
    for name, value in (("from", start), ("to", end)):
        if value is not None:
            script.append(f"const {name} = document.getElementById('f-{name}'); {name}.value = {json.dumps(value)};"
                          f"{name}.dispatchEvent(new Event('change'));")
    tab.evaluate("{" + " ".join(script) + "}")
    shown: dict[str, Any] = tab.evaluate(SHOWN)
    return shown


def _reader(built: Built) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(str(built.settings.warehouse_path), read_only=True)


def _busiest_other_department(built: Built) -> str:
    """The department besides emergency with the most published wait days (data in most charts)."""
    conn = _reader(built)
    try:
        row = conn.execute(
            """select department_code from marts.metrics_wait_daily
               where department_code not in ('emergency', 'unknown') and door_to_provider_p50_min is not null
               group by 1 order by count(*) desc, 1 limit 1"""
        ).fetchone()
    finally:
        conn.close()
    assert row is not None
    return str(row[0])


@pytest.mark.parametrize("language", ["zh-CN", "en"])
def test_both_languages_at_390_px_in_chromium(built: Built, language: str) -> None:
    result = built.result if language == "zh-CN" else built.english
    assert result.language == language
    conn = _reader(built)
    try:
        names = dict(conn.execute(
            "select department_code, department_name_zh from marts.dim_department" if language == "zh-CN"
            else "select department_code, department_name from marts.dim_department").fetchall())
    finally:
        conn.close()
    t = lambda key: messages.t(key, language)  # noqa: E731
    with open_tab(_chromium(), result.path, width=390, height=844) as tab:
        page = tab.evaluate("""({lang: document.documentElement.lang, h1: document.querySelector('h1').textContent,
            titles: Object.fromEntries([...document.querySelectorAll('section')].map(s => [s.id,
              s.querySelector('h2').textContent])),
            options: Object.fromEntries([...document.getElementById('f-department').options].map(o => [o.value,
              o.textContent])),
            dayAxis: document.getElementById('chart-wait-trends').layout.xaxis.title.text,
            plotFont: document.getElementById('chart-wait-trends').layout.font.family,
            bodyFont: getComputedStyle(document.body).fontFamily,
            text: document.body.innerText, scroll: document.documentElement.scrollWidth,
            body: document.body.scrollWidth, inner: window.innerWidth})""")
        assert tab.errors() == [], "the page wrote errors to the console"
    assert page["lang"] == language and page["h1"] == t("page.title")
    for key, title in {"kpi-status": "kpi.title", "wait-trends": "wait.title", "satisfaction-trends": "sat.title",
                       "campaign-funnel": "funnel.title", "cohort-retention": "cohort.title"}.items():
        assert page["titles"][key] == t(title)
    assert page["dayAxis"] == t("common.day")
    # the department names of the seed, in the page's language
    assert page["options"]["emergency"] == names["emergency"] == ("急诊科" if language == "zh-CN" else "Emergency")
    assert page["options"]["hospital"] == t("filter.hospital")
    assert all(page["options"][code] == name for code, name in names.items() if code in page["options"])
    if language == "zh-CN":  # no English title leaks into the Chinese page
        english = [messages.CATALOGUE[key]["en"] for key in messages.CATALOGUE if key.endswith(".title")]
        assert [title for title in english if title in page["text"]] == []
    for font in ("Microsoft YaHei", "PingFang SC", "Noto Sans CJK SC"):
        assert font in page["bodyFont"] and font in page["plotFont"]
    # a phone: nothing wider than the screen
    assert page["inner"] == 390
    assert page["scroll"] <= page["inner"] and page["body"] <= page["inner"], page


def test_page_filter_drives_every_chart_and_the_kpi_tiles(built: Built) -> None:
    other = _busiest_other_department(built)
    conn = _reader(built)
    try:
        waits = conn.execute(
            """select encounter_class, sum(door_to_provider_p50_min), count(door_to_provider_p50_min)
               from marts.metrics_wait_daily where department_code = ? group by 1""", [other]).fetchall()
        nps = conn.execute(
            """select kpi_value, unit from marts.metrics_kpi_status
               where department_code = ? and kpi_code = 'nps' and month_start_date = date '2026-02-01'""",
            [other]).fetchone()
        stages = "sum(people_reached), sum(people_engaged), sum(people_booked), sum(people_attended), " \
                 "sum(people_new_patients)"
        funnel = conn.execute(f"select {stages} from marts.metrics_campaign").fetchone()
        # the department whose own campaigns reached the most people (maybe none yet), and its funnel
        owner = conn.execute(
            f"""select department_code, {stages} from marts.metrics_campaign where department_code is not null
                and campaign_id <> 'organic' group by 1 order by 2 desc, 1 limit 1""").fetchone()
    finally:
        conn.close()
    assert funnel is not None and nps is not None
    assert funnel[0] > 0, "the fixture's campaigns and organic touches reach people"
    assert owner is not None, "the fixture should have a campaign a department owns"
    with open_tab(_chromium(), built.result.path, width=1280) as tab:
        first = tab.evaluate(SHOWN)
        emergency = _choose(tab, "emergency", "2026-02", "2026-03")
        chosen = _choose(tab, other, "2026-02", "2026-02")
        hospital = _choose(tab, "hospital")
        owning = _choose(tab, owner[0])
        march = _choose(tab, "emergency", "2026-03", "2026-03")
        february = _choose(tab, "emergency", "2026-02", "2026-02")
        assert tab.errors() == []

    # it opens on the emergency department and the latest complete month (February; March is partial)
    assert [(tile["department"], tile["month"]) for tile in first["tiles"]] == [("emergency", "2026-02")]
    seen = lambda shown: (shown["traces"], shown["empty"], shown["note"])  # noqa: E731
    for key in BY_DEPARTMENT:
        for department, shown in (("emergency", emergency[key]), (other, chosen[key]), (owner[0], owning[key])):
            assert {trace["department"] for trace in shown["traces"]} <= {department, "always"}, key
            assert shown["empty"] or any(trace["department"] == department for trace in shown["traces"]), key
        # changing the department changes what the chart shows: its data, or the note that it has none
        assert seen(hospital[key]) != seen(chosen[key]), key
        if key != "campaign-funnel":  # the funnel: below, on the department that owns campaigns
            assert emergency[key]["traces"] != chosen[key]["traces"], key
    assert owning["campaign-funnel"]["traces"] != hospital["campaign-funnel"]["traces"]
    own_funnel = [trace for trace in owning["campaign-funnel"]["traces"] if trace["type"] == "funnel"]
    assert len(own_funnel) == 1 and own_funnel[0]["x"] == [float(value) for value in owner[1:]]
    # real numbers: the chosen department's P50 lines are the mart's published values
    p50 = {trace["name"].split(" · ")[1].removesuffix(" P50"): trace for trace in chosen["wait-trends"]["traces"]
           if trace["name"].endswith(" P50")}
    expected = {klass: (total, count) for klass, total, count in waits if count}
    assert set(p50) == set(expected)
    for klass, (total, count) in expected.items():
        assert len(p50[klass]["y"]) == count and sum(p50[klass]["y"]) == pytest.approx(total)
    # the whole hospital: the funnel of every campaign, each stage within the one before
    stages = [trace for trace in hospital["campaign-funnel"]["traces"] if trace["type"] == "funnel"]
    assert len(stages) == 1 and stages[0]["department"] == "hospital"
    assert stages[0]["x"] == [float(value) for value in funnel]
    assert all(later <= earlier for earlier, later in zip(stages[0]["x"], stages[0]["x"][1:], strict=False))
    # department charts have no hospital total in the marts: they say so instead of drawing every department
    assert hospital["wait-trends"]["empty"] and hospital["wait-trends"]["traces"] == []
    assert hospital["wait-trends"]["note"] == messages.t("filter.no_hospital_total", "zh-CN")
    # the KPI tiles follow the department and the last month of the period
    assert [(tile["department"], tile["month"]) for tile in chosen["tiles"]] == [(other, "2026-02")]
    assert chosen["tiles"][0]["values"]["nps"] == messages.format_kpi(nps[0], nps[1], "zh-CN")
    assert march["tiles"][0]["month"] == "2026-03" and march["matrix"] == ["2026-03"]
    assert february["matrix"] == ["2026-02"]
    # the period sets every time axis: the daily chart to the month's days, monthly ones around the months
    assert march["wait-trends"]["range"] == ["2026-03-01", "2026-03-31 23:59"]
    assert february["wait-trends"]["range"] == ["2026-02-01", "2026-02-28 23:59"]
    assert emergency["satisfaction-trends"]["range"] == ["2026-01-16", "2026-03-17"]


def test_partial_month_is_marked_and_not_compared(built: Built) -> None:
    conn = _reader(built)
    try:
        ctx = charts.Context(min_cell=MIN_CELL, timezone=built.settings.timezone, language="en",
                             data_end=START + timedelta(days=DAYS - 1), targets={"nps": 50.0})
        figure = charts.satisfaction_trends(conn, ctx).figure
        kpis = charts.kpi_table(conn, ctx).html
    finally:
        conn.close()
    assert figure is not None and kpis is not None
    lines = [trace for trace in figure.data if trace.mode == "lines+markers"]
    hollow = [trace for trace in figure.data if trace.mode == "markers"]
    assert lines and hollow
    assert all(pd.Timestamp(x) < pd.Timestamp("2026-03-01") for trace in lines for x in trace.x)
    assert all(pd.Timestamp(x) == pd.Timestamp("2026-03-01") for trace in hollow for x in trace.x)
    assert all("partial month (data to 2026-03-02)" in trace.hovertemplate for trace in hollow)
    # a dashed NPS target at 50 across the period
    targets = [trace for trace in figure.data if trace.meta["department"] == "always"]
    assert [list(trace.y) for trace in targets] == [[50.0, 50.0]]
    # March tiles say partial and compare with nothing; February has no January to compare with either
    march = kpis.split("data-month='2026-03'", 1)[1].split("</div></div>", 1)[0]
    assert "partial" in march and "no full month to compare" in march
    assert "vs last month" not in kpis

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


def test_prints_on_a4_landscape_without_cut_charts(built: Built) -> None:
    """Print media on an A4-landscape page (277 x 190 mm inside 10 mm margins = 1047 x 718 CSS px): each
    chart's block fits one page and may not break, so no chart is cut; the PDF is A4 landscape."""
    import base64

    with open_tab(_chromium(), built.result.path, width=1047, height=718) as tab:
        tab.call("Emulation.setEmulatedMedia", media="print")
        tab.evaluate("window.dispatchEvent(new Event('beforeprint'))")
        tab.wait_for("[...document.querySelectorAll('.js-plotly-plot')].every(div => div.layout.width === 1000)")
        blocks = tab.evaluate("""[...document.querySelectorAll('section[data-chart]')].map(s => ({id: s.id,
            height: s.getBoundingClientRect().height, width: s.getBoundingClientRect().width,
            avoid: getComputedStyle(s).breakInside}))""")
        pdf = base64.b64decode(tab.call("Page.printToPDF", preferCSSPageSize=True, printBackground=True)["data"])
        assert tab.errors() == []
    assert {block["id"] for block in blocks} >= set(EXPECTED_CHARTS)
    for block in blocks:
        assert block["avoid"] == "avoid", block
        assert block["height"] <= 718 and block["width"] <= 1047, block
    boxes = {tuple(round(float(v)) for v in box.split()) for box in re.findall(rb"/MediaBox\s*\[([^\]]*)\]", pdf)}
    assert boxes == {(0, 0, 842, 595)}, "every page A4 landscape (842 x 595 pt)"
