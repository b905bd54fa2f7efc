"""The KPI section as HTML: tiles for the department and month the page filter picks, and the matrix
of every department for that month. Every (department, month) is rendered once, hidden; the page's
filter script shows the one chosen (``data-department``, ``data-month``)."""

from __future__ import annotations

from collections.abc import Mapping
from html import escape
from typing import TYPE_CHECKING, Any

import pandas as pd

from journey.report import messages, shaping

if TYPE_CHECKING:
    from journey.report.charts import Context

IMPROVED, WORSENED = "#1a7f37", "#b42318"


def month_key(month: object) -> str:
    """'2026-03': the value of the page's month filter."""
    return pd.Timestamp(month).strftime("%Y-%m")  # type: ignore[arg-type]


def _status(status: str, ctx: Context) -> str:
    colour = shaping.KPI_STATUS_COLOURS.get(status, shaping.KPI_STATUS_COLOURS["no_data"])
    return f"<span class='status' style='background:{colour}'>{escape(ctx.t('status.' + status))}</span>"


def _change(record: Mapping[Any, Any], column: str, label: str, ctx: Context) -> str:
    delta = record.get(column)
    if delta is None or pd.isna(delta):
        return ""
    number = float(delta)
    better = number > 0 if record.get("direction") != "lower_is_better" else number < 0
    colour = "#555" if number == 0 else (IMPROVED if better else WORSENED)
    text = messages.format_change(number, record["unit"], ctx.language)
    return f"<div class='change' style='color:{colour}'>{escape(label)} {escape(text)}</div>"


def _tile(record: Mapping[Any, Any], ctx: Context) -> str:
    unit = record["unit"]
    month = ctx.month(record["month_start_date"])
    if record["is_partial"]:
        month += f" <span class='partial'>{escape(ctx.t('common.partial_short'))}</span>"
    changes = _change(record, "change_month", ctx.t("kpi.vs_last_month"), ctx)
    changes += _change(record, "change_year", ctx.t("kpi.vs_last_year"), ctx)
    if not changes:
        changes = f"<div class='change muted'>{escape(ctx.t('kpi.no_comparison'))}</div>"
    return (
        f"<div class='tile' data-kpi='{escape(str(record['kpi_code']))}' style='border-top-color:{record['colour']}'>"
        f"<div class='tile-name'>{escape(ctx.t('kpi.' + str(record['kpi_code'])))}</div>"
        f"<div class='tile-month'>{month}</div>"
        f"<div class='tile-value'>{escape(messages.format_kpi(record['kpi_value'], unit, ctx.language))}</div>"
        f"<div>{_status(str(record['kpi_status']), ctx)} {escape(ctx.t('common.target'))} "
        f"{escape(messages.format_kpi(record['target_value'], unit, ctx.language))}</div>"
        f"{changes}</div>"
    )


def _matrix(rows: pd.DataFrame, ctx: Context) -> str:
    departments = sorted(rows["department_code"].astype(str).unique(), key=ctx.name)
    head = "".join(f"<th data-column='{escape(code)}'>{escape(ctx.name(code))}</th>" for code in departments)
    body = []
    for kpi_code, kpi_rows in rows.groupby("kpi_code", sort=True):
        first = kpi_rows.iloc[0]
        by_department = {str(record["department_code"]): record for record in kpi_rows.to_dict("records")}
        cells = []
        for code in departments:
            record = by_department.get(code)
            if record is None:
                cells.append("<td class='num'></td>")
                continue
            status = ctx.t("status." + str(record["kpi_status"]))
            cells.append(
                f"<td class='num status-cell' data-column='{escape(code)}' style='background:{record['colour']}' "
                f"title='{escape(ctx.name(code))}: {escape(status)}'>"
                f"{escape(messages.format_kpi(record['kpi_value'], record['unit'], ctx.language))}</td>"
            )
        body.append(
            f"<tr><td>{escape(ctx.t('kpi.' + str(kpi_code)))}<br><code>{escape(str(kpi_code))}</code></td>"
            f"<td class='num'>{escape(messages.format_kpi(first['target_value'], first['unit'], ctx.language))}</td>"
            + "".join(cells) + "</tr>"
        )
    return (
        "<div class='scroll'><table class='kpi'><thead><tr>"
        f"<th>{escape(ctx.t('kpi.column'))}</th><th>{escape(ctx.t('common.target'))}</th>{head}"
        "</tr></thead><tbody>" + "".join(body) + "</tbody></table></div>"
    )


def render(rows: pd.DataFrame, ctx: Context) -> str:
    """Tiles per (department, month) and a matrix per month, all hidden until the filter picks one."""
    legend = " ".join(_status(status, ctx) for status in shaping.KPI_STATUS_COLOURS if status != "no_data")
    parts = [f"<p class='units'>{legend}</p>",
             f"<p class='note filter-empty' data-tiles-empty hidden>{escape(ctx.t('kpi.no_tiles'))}</p>"]
    for (month, department), group in rows.groupby(["month_start_date", "department_code"], sort=True):
        tiles = "".join(_tile(record, ctx) for record in group.to_dict("records"))
        parts.append(f"<div class='tiles' data-department='{escape(str(department))}' "
                     f"data-month='{month_key(month)}' hidden>{tiles}</div>")
    for month, group in rows.groupby("month_start_date", sort=True):
        caption = escape(ctx.t("kpi.matrix_caption", month=ctx.month(month)))
        parts.append(f"<div class='matrix' data-month='{month_key(month)}' hidden><h3>{caption}</h3>"
                     f"{_matrix(group, ctx)}</div>")
    return "\n".join(parts)
