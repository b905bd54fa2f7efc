"""`journey report`: read the published warehouse (read-only) and write site/report/index.html."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import duckdb

from journey.config import Settings
from journey.report import charts, data
from journey.report.charts import Context, Section
from journey.warehouse.connection import connect_reader
from journey.warehouse.publish import require_published_warehouse

log = logging.getLogger(__name__)

SectionBuilder = Callable[[duckdb.DuckDBPyConnection, Context], Section]

SECTIONS: tuple[SectionBuilder, ...] = (
    charts.kpi_table,
    charts.wait_trends,
    charts.arrival_heatmap,
    charts.satisfaction_trends,
    charts.satisfaction_vs_wait,
    charts.cohort_retention,
    charts.service_sla,
    charts.campaign_funnel,
    charts.driver_analysis,
)


@dataclass
class ReportResult:
    path: Path
    charts: list[str] = field(default_factory=list)
    tables: list[str] = field(default_factory=list)
    unavailable: dict[str, str] = field(default_factory=dict)
    size_bytes: int = 0


def report_path(settings: Settings) -> Path:
    return settings.site_dir / "report" / "index.html"


def _build_section(builder: SectionBuilder, conn: duckdb.DuckDBPyConnection, ctx: Context) -> Section:
    try:
        return builder(conn, ctx)
    except data.MissingData as error:
        key = builder.__name__.replace("_", "-")
        log.warning("report section unavailable", extra={"section": key, "reason": str(error)})
        return Section(key, builder.__name__.replace("_", " ").capitalize(), "", "",
                       notes=[f"Not available: {error}."])


def build_report(settings: Settings, *, warehouse: Path | None = None, out: Path | None = None) -> ReportResult:
    """Build the dashboard from ``warehouse`` (default: the published one) into ``out``."""
    from journey.report.page import render_page

    source = require_published_warehouse(settings, warehouse)
    target = out or report_path(settings)
    conn = connect_reader(source)
    try:
        ctx = Context(min_cell=settings.min_cell_size, timezone=settings.timezone,
                      names=data.department_names(conn))
        sections = [_build_section(builder, conn, ctx) for builder in SECTIONS]
        span = data.period(conn)
    finally:
        conn.close()
    subtitle = [
        f"Period: {span[0]} to {span[1]} (hospital-local, {settings.timezone})" if span else "Period: no data yet",
        f"Generated {datetime.now().astimezone():%Y-%m-%d %H:%M %Z} from {source.name}; cells over fewer than "
        f"{settings.min_cell_size} units are suppressed and never plotted.",
    ]
    html = render_page(sections, subtitle=subtitle)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".html.tmp")
    partial.write_text(html, encoding="utf-8")
    os.replace(partial, target)  # readers never see a half-written page
    result = ReportResult(path=target, size_bytes=target.stat().st_size)
    for section in sections:
        if section.figure is not None:
            result.charts.append(section.key)
        elif section.html is not None:
            result.tables.append(section.key)
        else:
            result.unavailable[section.key] = "; ".join(section.notes)
    log.info("report built", extra={"path": str(target), "charts": len(result.charts)})
    return result
