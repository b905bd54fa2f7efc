"""Assemble sections into one self-contained HTML page: plotly.js inlined once, no CDN, no server.

One filter in the header (department, first and last month) drives every chart and the KPI tiles: a
small script shows the traces whose ``meta.department`` is the one chosen and sets every time axis
to the months chosen; the choice is kept in the address (``#department=…&from=…&to=…``), so a link
opens on the same view. The page fits 390 px phones and prints on A4 landscape, a chart per block.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

import plotly.io as pio
from plotly.offline import get_plotlyjs

from journey.report import messages
from journey.report.charts import HOSPITAL, Section

PLOT_CONFIG: dict[str, object] = {
    "displaylogo": False,
    "responsive": True,
    # the modebar's camera button downloads the chart as PNG, named after the chart
    "toImageButtonOptions": {"format": "png", "scale": 2},
}

STYLE = """
* { box-sizing: border-box; }
[hidden] { display: none !important; }
body { font-family: %(fonts)s; margin: 0; color: #222; background: #f6f7f9; }
header { background: #12355b; color: #fff; padding: 14px 20px; }
header h1 { margin: 0 0 4px 0; font-size: 22px; }
header p { margin: 2px 0; font-size: 13px; opacity: .9; }
form.filters { display: flex; flex-wrap: wrap; gap: 8px 16px; align-items: end; margin-top: 10px; font-size: 13px; }
form.filters label { display: flex; flex-direction: column; gap: 2px; }
form.filters select { font: inherit; padding: 4px 6px; max-width: 100%%; }
form.filters .help { flex-basis: 100%%; opacity: .85; }
nav { padding: 8px 20px; background: #fff; border-bottom: 1px solid #ddd; font-size: 13px; display: flex;
      flex-wrap: wrap; gap: 4px 14px; }
nav a { color: #12355b; }
main { padding: 8px 20px 32px; max-width: 1400px; }
section { background: #fff; border: 1px solid #e2e4e8; border-radius: 6px; padding: 12px 14px; margin: 12px 0;
          min-width: 0; }
section h2 { margin: 0 0 6px; font-size: 18px; }
section h3 { margin: 14px 0 6px; font-size: 15px; }
p.definition { margin: 2px 0; font-size: 13px; }
p.units { margin: 2px 0 8px; font-size: 12px; color: #555; }
p.note { margin: 6px 0 0; font-size: 12px; color: #6b6b6b; }
p.missing, p.filter-empty { color: #a33; font-size: 13px; }
.js-plotly-plot, .plot-container { max-width: 100%%; }
.tiles { display: grid; grid-template-columns: repeat(auto-fill, minmax(170px, 1fr)); gap: 10px; }
.tile { border: 1px solid #e2e4e8; border-top: 5px solid #9e9e9e; border-radius: 6px; padding: 8px 10px;
        font-size: 12px; }
.tile-name { font-weight: 600; font-size: 13px; }
.tile-month { color: #666; }
.tile-value { font-size: 24px; font-weight: 700; font-variant-numeric: tabular-nums; margin: 2px 0; }
.tile .change { margin-top: 2px; }
.muted { color: #888; }
span.partial { background: #fff3cd; color: #7a5b00; border-radius: 8px; padding: 0 6px; }
.scroll { overflow-x: auto; max-width: 100%%; }
table.kpi { border-collapse: collapse; font-size: 13px; width: 100%%; }
table.kpi th, table.kpi td { border-bottom: 1px solid #eee; padding: 5px 8px; text-align: left; vertical-align: top; }
table.kpi td.num { white-space: nowrap; text-align: right; font-variant-numeric: tabular-nums; }
table.kpi code { color: #777; font-size: 11px; }
table.kpi td.status-cell { color: #fff; font-weight: 600; }
table.kpi .chosen { outline: 3px solid #12355b; outline-offset: -3px; }
span.status { color: #fff; border-radius: 10px; padding: 2px 9px; font-size: 12px; white-space: nowrap; }
footer { font-size: 12px; color: #666; padding: 0 20px 30px; }
@media (max-width: 600px) {
  header, nav, main, footer { padding-left: 10px; padding-right: 10px; }
  section { padding: 10px 8px; }
  header h1 { font-size: 19px; }
}
@media print {
  @page { size: A4 landscape; margin: 10mm; }
  body { background: #fff; }
  nav { display: none; }
  header { background: #fff; color: #000; padding: 0 0 6px; }
  form.filters select { border: none; appearance: none; }
  main { padding: 0; max-width: none; }
  section, .tile, table.kpi tr { page-break-inside: avoid; break-inside: avoid; }
  section { border: none; margin: 0 0 8mm; }
}
"""

# a chart on A4 landscape with 10 mm margins (1047 x 718 CSS px): room for its title and notes
PRINT_WIDTH_PX, PRINT_HEIGHT_PX = 1000, 500

SCRIPT = """
(function () {
  var text = %(text)s;
  var f = function (id) { return document.getElementById(id); };
  function monthEnd(m) {
    var p = m.split('-'); return new Date(Date.UTC(+p[0], +p[1], 0)).toISOString().slice(0, 10);
  }
  function shift(iso, days) {
    var d = new Date(iso + 'T00:00:00Z'); d.setUTCDate(d.getUTCDate() + days); return d.toISOString().slice(0, 10);
  }
  function apply() {
    var dept = f('f-department').value, from = f('f-from').value, to = f('f-to').value;
    if (from > to) { var swap = from; from = to; to = swap; }
    document.querySelectorAll('section[data-chart]').forEach(function (section) {
      var div = section.querySelector('.js-plotly-plot');
      if (!div || !div.data) { return; }
      // a trace without meta.department (a chart with a menu of its own) is left alone
      var owner = function (trace) { return (trace.meta || {}).department || 'always'; };
      var filtered = div.data.some(function (trace) { return owner(trace) !== 'always'; });
      var visible = div.data.map(function (trace) { return owner(trace) === 'always' || owner(trace) === dept; });
      var own = div.data.filter(function (trace, i) { return visible[i] && owner(trace) !== 'always'; }).length;
      if (filtered) { Plotly.restyle(div, {visible: visible}); }
      var axis = section.getAttribute('data-time');
      if (axis) {
        var start = from + '-01', end = monthEnd(to);
        var range = axis === 'daily' ? [start, end + ' 23:59'] : [shift(start, -16), shift(end, -14)];
        Plotly.relayout(div, {'xaxis.range': range});
      }
      var empty = section.querySelector('.filter-empty');
      empty.hidden = !filtered || own > 0;
      empty.textContent = dept === '%(hospital)s' ? text.noHospital : text.empty;
    });
    var shown = 0;
    document.querySelectorAll('.tiles').forEach(function (el) {
      el.hidden = !(el.getAttribute('data-department') === dept && el.getAttribute('data-month') === to);
      if (!el.hidden) { shown += 1; }
    });
    document.querySelectorAll('[data-tiles-empty]').forEach(function (el) { el.hidden = shown > 0; });
    document.querySelectorAll('.matrix').forEach(function (el) { el.hidden = el.getAttribute('data-month') !== to; });
    document.querySelectorAll('[data-column]').forEach(function (el) {
      el.classList.toggle('chosen', el.getAttribute('data-column') === dept);
    });
    history.replaceState(null, '', '#department=' + encodeURIComponent(dept) + '&from=' + from + '&to=' + to);
  }
  function restore() {
    location.hash.replace(/^#/, '').split('&').forEach(function (pair) {
      var kv = pair.split('='), select = f('f-' + kv[0]);
      var value = decodeURIComponent(kv[1] || '');
      if (select && Array.prototype.some.call(select.options, function (o) { return o.value === value; })) {
        select.value = value;
      }
    });
  }
  window.journeyApplyFilter = apply;
  window.addEventListener('load', function () {
    restore();
    ['f-department', 'f-from', 'f-to'].forEach(function (id) { f(id).addEventListener('change', apply); });
    apply();
  });
  // on paper (A4 landscape, 277 x 190 mm) every chart is drawn to fit one page, then restored
  window.addEventListener('beforeprint', function () {
    document.querySelectorAll('.js-plotly-plot').forEach(function (div) {
      div.setAttribute('data-screen-height', div.layout.height || '');
      Plotly.relayout(div, {height: Math.min(div.layout.height || %(print_height)d, %(print_height)d),
                            width: %(print_width)d});
    });
  });
  window.addEventListener('afterprint', function () {
    document.querySelectorAll('.js-plotly-plot').forEach(function (div) {
      Plotly.relayout(div, {height: +div.getAttribute('data-screen-height') || null, width: null})
        .then(function () { Plotly.Plots.resize(div); });
    });
  });
})();
"""


@dataclass(frozen=True)
class Filter:
    """The page-wide filter's choices: (code, name) departments and ``YYYY-MM`` months, and the defaults."""

    departments: Sequence[tuple[str, str]]
    months: Sequence[tuple[str, str]]  # (YYYY-MM, label)
    department: str
    month: str


def chart_div_id(section: Section) -> str:
    return f"chart-{section.key}"


def render_section(section: Section, language: str = "en") -> str:
    attributes = f" id='{escape(section.key)}'"
    if section.figure is not None:
        attributes += " data-chart"
        if section.time_axis:
            attributes += f" data-time='{section.time_axis}'"
    parts = [f"<section{attributes}>", f"<h2>{escape(section.title)}</h2>"]
    if section.definition:
        parts.append(f"<p class='definition'><b>{messages.t('page.definition', language)}</b> "
                     f"{escape(section.definition)}</p>")
    if section.units:
        parts.append(f"<p class='units'><b>{messages.t('page.units', language)}</b> {escape(section.units)}</p>")
    if section.figure is not None:
        config = dict(PLOT_CONFIG)
        config["toImageButtonOptions"] = {"format": "png", "scale": 2, "filename": f"journey-{section.key}"}
        parts.append("<p class='filter-empty' hidden></p>")
        parts.append(
            pio.to_html(
                section.figure, full_html=False, include_plotlyjs=False, div_id=chart_div_id(section),
                config=config, validate=True,
            )
        )
    elif section.html is not None:
        parts.append(section.html)
    for note in section.notes:
        parts.append(f"<p class='{'missing' if section.missing else 'note'}'>{escape(note)}</p>")
    parts.append("</section>")
    return "\n".join(parts)


def _select(name: str, label: str, options: Sequence[tuple[str, str]], chosen: str) -> str:
    rendered = "".join(
        f"<option value='{escape(value)}'{' selected' if value == chosen else ''}>{escape(text)}</option>"
        for value, text in options
    )
    return f"<label>{escape(label)}<select id='f-{name}' name='{name}'>{rendered}</select></label>"


def render_filter(choice: Filter, language: str) -> str:
    departments = [(HOSPITAL, messages.t("filter.hospital", language)), *choice.departments]
    first = choice.months[0][0] if choice.months else ""
    return (
        "<form class='filters' id='filters' onsubmit='return false'>"
        + _select("department", messages.t("filter.department", language), departments, choice.department)
        + _select("from", messages.t("filter.from", language), choice.months, first)
        + _select("to", messages.t("filter.to", language), choice.months, choice.month)
        + f"<span class='help'>{escape(messages.t('filter.help', language))}</span></form>"
    )


def render_page(sections: Sequence[Section], *, subtitle: Sequence[str], choice: Filter | None = None,
                language: str = "en") -> str:
    """The whole dashboard as one HTML string (plotly.js inlined once, in the head)."""
    t = lambda key: messages.t(key, language)  # noqa: E731
    nav = " ".join(f"<a href='#{escape(s.key)}'>{escape(s.title.split(':')[0])}</a>" for s in sections)
    lines = "".join(f"<p>{escape(line)}</p>" for line in subtitle)
    body = "\n".join(render_section(section, language) for section in sections)
    choice = choice or Filter(departments=[], months=[], department=HOSPITAL, month="")
    script = SCRIPT % {
        "text": json.dumps({"empty": t("filter.empty"), "noHospital": t("filter.no_hospital_total")},
                           ensure_ascii=False),
        "hospital": HOSPITAL, "print_height": PRINT_HEIGHT_PX, "print_width": PRINT_WIDTH_PX,
    }
    return (
        f"<!DOCTYPE html>\n<html lang='{t('page.html_lang')}'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>journey — {escape(t('page.title'))}</title>"
        f"<style>{STYLE % {'fonts': messages.FONT_STACK}}</style>"
        f"<script type='text/javascript'>{get_plotlyjs()}</script>"
        "</head><body>"
        f"<header><h1>{escape(t('page.title'))}</h1>{lines}{render_filter(choice, language)}</header>"
        f"<nav>{nav}</nav><main>{body}</main>"
        f"<footer>{escape(t('page.footer'))}</footer>"
        f"<script type='text/javascript'>{script}</script></body></html>\n"
    )
