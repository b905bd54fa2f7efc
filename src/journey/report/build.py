"""`journey report`: read the published warehouse (read-only) and write site/report/index.html."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import duckdb
import pandas as pd

from journey.config import Settings
from journey.report import charts, data, messages, shaping
from journey.report.charts import HOSPITAL, Context, Section
from journey.report.kpi_view import month_key
from journey.report.page import Filter, render_page
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
# a section's title in the catalogue, for the placeholder of a section the marts cannot feed
TITLE_KEYS: dict[str, str] = {
    "kpi_table": "kpi.title", "wait_trends": "wait.title", "arrival_heatmap": "heat.title",
    "satisfaction_trends": "sat.title", "satisfaction_vs_wait": "vsw.title", "cohort_retention": "cohort.title",
    "service_sla": "sla.title", "campaign_funnel": "funnel.title", "driver_analysis": "drivers.title",
}


@dataclass
class ReportResult:
    path: Path
    charts: list[str] = field(default_factory=list)
    tables: list[str] = field(default_factory=list)
    unavailable: dict[str, str] = field(default_factory=dict)
    size_bytes: int = 0
    language: str = "en"


def report_path(settings: Settings) -> Path:
    return settings.site_dir / "report" / "index.html"


def _build_section(builder: SectionBuilder, conn: duckdb.DuckDBPyConnection, ctx: Context) -> Section:
    try:
        return builder(conn, ctx)
    except data.MissingData as error:
        key = builder.__name__.replace("_", "-")
        log.warning("report section unavailable", extra={"section": key, "reason": str(error)})
        title = ctx.t(TITLE_KEYS[builder.__name__]) if builder.__name__ in TITLE_KEYS else key
        return Section(key, title, "", "", notes=[ctx.t("page.unavailable", reason=error)], missing=True)


def page_filter(span: tuple[str, str] | None, ctx: Context) -> Filter:
    """The page-wide filter: every department with a name, every month of the period; it opens on
    the emergency department (else the first) and the latest complete month."""
    departments = sorted(((code, name) for code, name in ctx.names.items() if code != "unknown"),
                         key=lambda item: item[1])
    months: list[pd.Timestamp] = []
    if span is not None:
        months = list(pd.date_range(pd.Timestamp(span[0]).to_period("M").to_timestamp(), span[1], freq="MS"))
    latest = shaping.default_month(pd.Series(months, dtype="datetime64[ns]"), ctx.data_end)
    codes = [code for code, _ in departments]
    return Filter(
        departments=departments,
        months=[(month_key(month), ctx.month(month)) for month in months],
        department="emergency" if "emergency" in codes else (codes[0] if codes else HOSPITAL),
        month=month_key(latest) if latest is not None else "",
    )


def build_report(settings: Settings, *, warehouse: Path | None = None, out: Path | None = None,
                 language: str | None = None) -> ReportResult:
    """Build the dashboard from ``warehouse`` (default: the published one) into ``out``, in ``language``
    (default: JOURNEY_REPORT_LANGUAGE, else by the hospital's time zone: messages.resolve_language)."""
    chosen = messages.resolve_language(language or settings.report_language, settings.timezone)
    source = require_published_warehouse(settings, warehouse)
    target = out or report_path(settings)
    conn = connect_reader(source)
    try:
        span = data.period(conn)
        ctx = Context(min_cell=settings.min_cell_size, timezone=settings.timezone, language=chosen,
                      names=data.department_names(conn, chosen), targets=data.kpi_targets(conn),
                      data_end=date.fromisoformat(span[1]) if span else None)
        sections = [_build_section(builder, conn, ctx) for builder in SECTIONS]
    finally:
        conn.close()
    subtitle = [
        ctx.t("page.period", start=messages.date_label(date.fromisoformat(span[0]), chosen),
              end=messages.date_label(date.fromisoformat(span[1]), chosen), timezone=settings.timezone)
        if span else ctx.t("page.no_period"),
        ctx.t("page.generated", at=f"{datetime.now().astimezone():%Y-%m-%d %H:%M %Z}", source=source.name,
              min_cell=settings.min_cell_size),
    ]
    html = render_page(sections, subtitle=subtitle, choice=page_filter(span, ctx), language=chosen)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".html.tmp")
    partial.write_text(html, encoding="utf-8")
    os.replace(partial, target)  # readers never see a half-written page
    result = ReportResult(path=target, size_bytes=target.stat().st_size, language=chosen)
    for section in sections:
        if section.figure is not None:
            result.charts.append(section.key)
        elif section.html is not None:
            result.tables.append(section.key)
        else:
            result.unavailable[section.key] = "; ".join(section.notes)
    log.info("report built", extra={"path": str(target), "charts": len(result.charts)})
    return result
