"""Assemble sections into one self-contained HTML page: plotly.js inlined once, no CDN, no server."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

import plotly.io as pio
from plotly.offline import get_plotlyjs

from journey.report.charts import Section

PLOT_CONFIG: dict[str, object] = {
    "displaylogo": False,
    "responsive": True,
    # the modebar's camera button downloads the chart as PNG, named after the chart
    "toImageButtonOptions": {"format": "png", "scale": 2},
}

STYLE = """
body { font-family: -apple-system, "Segoe UI", Roboto, "Noto Sans", "PingFang SC", sans-serif; margin: 0;
       color: #222; background: #f6f7f9; }
header { background: #12355b; color: #fff; padding: 16px 28px; }
header h1 { margin: 0 0 4px 0; font-size: 22px; }
header p { margin: 2px 0; font-size: 13px; opacity: .9; }
nav { padding: 8px 28px; background: #fff; border-bottom: 1px solid #ddd; font-size: 13px; }
nav a { margin-right: 14px; color: #12355b; }
main { padding: 12px 28px 40px; max-width: 1400px; }
section { background: #fff; border: 1px solid #e2e4e8; border-radius: 6px; padding: 14px 18px; margin: 14px 0; }
section h2 { margin: 0 0 6px; font-size: 18px; }
p.definition { margin: 2px 0; font-size: 13px; }
p.units { margin: 2px 0 8px; font-size: 12px; color: #555; }
p.note { margin: 6px 0 0; font-size: 12px; color: #6b6b6b; }
p.missing { color: #a33; font-size: 13px; }
table.kpi { border-collapse: collapse; font-size: 13px; width: 100%; }
table.kpi th, table.kpi td { border-bottom: 1px solid #eee; padding: 5px 8px; text-align: left; vertical-align: top; }
table.kpi td.num { white-space: nowrap; text-align: right; font-variant-numeric: tabular-nums; }
table.kpi code { color: #777; font-size: 11px; }
table.kpi td.status-cell { color: #fff; font-weight: 600; }
span.status { color: #fff; border-radius: 10px; padding: 2px 9px; font-size: 12px; white-space: nowrap; }
footer { font-size: 12px; color: #666; padding: 0 28px 30px; }
"""


def chart_div_id(section: Section) -> str:
    return f"chart-{section.key}"


def render_section(section: Section) -> str:
    parts = [
        f"<section id='{escape(section.key)}'>",
        f"<h2>{escape(section.title)}</h2>",
    ]
    if section.definition:
        parts.append(f"<p class='definition'><b>Definition.</b> {escape(section.definition)}</p>")
    if section.units:
        parts.append(f"<p class='units'><b>Units:</b> {escape(section.units)}</p>")
    if section.figure is not None:
        config = dict(PLOT_CONFIG)
        config["toImageButtonOptions"] = {"format": "png", "scale": 2, "filename": f"journey-{section.key}"}
        parts.append(
            pio.to_html(
                section.figure, full_html=False, include_plotlyjs=False, div_id=chart_div_id(section),
                config=config, validate=True,
            )
        )
    elif section.html is not None:
        parts.append(section.html)
    for note in section.notes:
        css = "missing" if note.startswith("Not available") else "note"
        parts.append(f"<p class='{css}'>{escape(note)}</p>")
    parts.append("</section>")
    return "\n".join(parts)


def render_page(sections: Sequence[Section], *, subtitle: Sequence[str]) -> str:
    """The whole dashboard as one HTML string (plotly.js inlined once, in the head)."""
    nav = " ".join(f"<a href='#{escape(s.key)}'>{escape(s.title.split(':')[0])}</a>" for s in sections)
    lines = "".join(f"<p>{escape(line)}</p>" for line in subtitle)
    body = "\n".join(render_section(section) for section in sections)
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        "<title>journey — patient experience dashboard</title>"
        f"<style>{STYLE}</style>"
        f"<script type='text/javascript'>{get_plotlyjs()}</script>"
        "</head><body>"
        f"<header><h1>Patient experience dashboard</h1>{lines}</header>"
        f"<nav>{nav}</nav><main>{body}</main>"
        "<footer>Built by <code>journey report</code> from the published warehouse (read-only). Every chart's "
        "camera button downloads it as PNG. Definitions and lineage: the dbt docs site (<code>journey docs</code>)."
        "</footer></body></html>\n"
    )
