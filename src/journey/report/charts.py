"""One function per dashboard section: read the marts (read-only), shape, and draw a plotly figure.

Each returns a Section with a title, a one-line definition and the units; suppressed cells are
NaN before they reach a figure, so they show as gaps, never as points.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import duckdb
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from journey.report import data, shaping

PALETTE = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22",
    "#17becf", "#393b79", "#637939",
)


@dataclass(frozen=True)
class Context:
    """What every section needs besides the connection."""

    min_cell: int
    timezone: str
    names: dict[str, str] = field(default_factory=dict)

    def name(self, code: object) -> str:
        return self.names.get(str(code), str(code))


@dataclass
class Section:
    key: str
    title: str
    definition: str
    units: str
    figure: go.Figure | None = None
    html: str | None = None
    notes: list[str] = field(default_factory=list)


def _layout(figure: go.Figure, *, x: str, y: str, height: int = 420) -> go.Figure:
    figure.update_layout(
        template="plotly_white", height=height, margin={"l": 60, "r": 20, "t": 40, "b": 50},
        xaxis_title=x, yaxis_title=y, legend={"orientation": "h", "y": -0.2}, hovermode="closest",
    )
    return figure


def _department_menu(labels: list[str], groups: list[str], default: str | None) -> list[dict[str, object]]:
    """A dropdown that shows one department's traces (or all); ``groups[i]`` is trace i's department."""
    buttons = [{"label": "All departments", "method": "update", "args": [{"visible": [True] * len(groups)}]}]
    for label in labels:
        buttons.append(
            {"label": label, "method": "update", "args": [{"visible": [group == label for group in groups]}]}
        )
    active = labels.index(default) + 1 if default in labels else 0
    return [{"buttons": buttons, "active": active, "x": 0, "y": 1.12, "xanchor": "left", "direction": "down"}]


def wait_trends(conn: duckdb.DuckDBPyConnection, ctx: Context) -> Section:
    section = Section(
        "wait-trends", "Door-to-provider wait, daily p50 and p90 per department",
        "Minutes from arrival to first provider contact (CMS OP-20 sense); median (solid) and 90th percentile "
        "(dotted) of the day's visits, LWBS excluded, by department and encounter class.",
        "minutes; x = hospital-local day",
    )
    frame = data.select(
        conn, "metrics_wait_daily",
        ["metric_date", "department_code", "encounter_class", "door_to_provider_p50_min", "door_to_provider_p90_min"],
        ["door_to_provider_suppressed", "door_to_provider_n"],
    ).sort_values("metric_date")
    frame["p50"] = shaping.mask_suppressed(frame, "door_to_provider_p50_min", "door_to_provider_suppressed")
    frame["p90"] = shaping.mask_suppressed(frame, "door_to_provider_p90_min", "door_to_provider_suppressed")
    figure = go.Figure()
    groups: list[str] = []
    series = frame.groupby(["department_code", "encounter_class"], sort=True)
    shown = 0
    for index, ((department, klass), rows) in enumerate(series):
        if rows["p50"].notna().sum() == 0:
            continue  # every day of this series suppressed: nothing to plot
        colour = PALETTE[index % len(PALETTE)]
        label = f"{ctx.name(department)} · {klass}"
        for column, dash in (("p50", "solid"), ("p90", "dot")):
            figure.add_trace(go.Scatter(
                x=rows["metric_date"], y=rows[column], mode="lines+markers", name=f"{label} {column}",
                line={"color": colour, "dash": dash}, marker={"size": 4}, legendgroup=label, connectgaps=False,
                hovertemplate=f"{label}<br>%{{x|%Y-%m-%d}}<br>{column}: %{{y:.0f}} min<extra></extra>",
            ))
            groups.append(ctx.name(department))
        shown += 1
    if shown == 0:
        section.notes.append("Every department-day is below the small-cell size: nothing to plot.")
        return section
    labels = sorted(set(groups))
    default = ctx.name("emergency") if ctx.name("emergency") in labels else None
    if default is not None:
        for trace, group in zip(figure.data, groups, strict=True):
            trace.visible = group == default
    figure.update_layout(updatemenus=_department_menu(labels, groups, default))
    figure.update_xaxes(rangeslider={"visible": True, "thickness": 0.06}, type="date")
    section.figure = _layout(figure, x="Day (hospital-local)", y="Door-to-provider (minutes)", height=480)
    suppressed = int(frame["p50"].isna().sum())
    if suppressed:
        section.notes.append(
            f"{suppressed} department-days with fewer than {ctx.min_cell} visits are suppressed (gaps)."
        )
    return section


def ed_heatmap(conn: duckdb.DuckDBPyConnection, ctx: Context) -> Section:
    section = Section(
        "ed-heatmap", "Emergency: door-to-provider by hour of arrival × weekday",
        "Median minutes from arrival to first provider contact for ED visits (LWBS excluded), by the hospital-local "
        "hour and weekday of arrival, over the whole period.",
        f"minutes (median); hours in {ctx.timezone}",
    )
    medians, counts = shaping.hour_weekday_grid(data.ed_arrivals(conn, ctx.timezone), min_cell=ctx.min_cell)
    if medians.isna().all().all():
        section.notes.append("No hour × weekday cell has enough ED visits to publish.")
        return section
    figure = go.Figure(go.Heatmap(
        z=medians.to_numpy(), x=[f"{hour:02d}:00" for hour in medians.columns], y=list(shaping.WEEKDAYS),
        customdata=counts.to_numpy(), colorscale="YlOrRd", colorbar={"title": "min"}, hoverongaps=False,
        hovertemplate="%{y} %{x}<br>median %{z:.0f} min<br>%{customdata} visits<extra></extra>",
    ))
    figure.update_yaxes(autorange="reversed")
    section.figure = _layout(figure, x="Hour of arrival (local)", y="Weekday", height=380)
    blank = int(medians.isna().sum().sum())
    if blank:
        section.notes.append(f"{blank} of 168 cells have fewer than {ctx.min_cell} visits and are left blank.")
    return section


def satisfaction_trends(conn: duckdb.DuckDBPyConnection, ctx: Context) -> Section:
    section = Section(
        "satisfaction-trends", "NPS and overall top-box, monthly per department",
        "NPS = 100 × (promoters 9-10 − detractors 0-6) ÷ responses with a score (Bain); top-box = share of "
        "overall ratings 9-10 (CMS HCAHPS box score).",
        "NPS: score −100…100 (left); top-box: % (right); x = month of the visit",
    )
    frame = data.select(
        conn, "metrics_satisfaction_monthly", ["month_start_date", "department_code", "nps", "overall_top_box_pct"],
        ["nps_suppressed", "overall_suppressed", "responses", "is_low_sample"],
    ).sort_values("month_start_date")
    frame["nps_value"] = shaping.mask_suppressed(frame, "nps", "nps_suppressed")
    frame["top_box"] = shaping.mask_suppressed(frame, "overall_top_box_pct", "overall_suppressed")
    figure = make_subplots(rows=1, cols=2, subplot_titles=("NPS", "Overall top-box %"), horizontal_spacing=0.1)
    for index, (department, rows) in enumerate(frame.groupby("department_code", sort=True)):
        if rows[["nps_value", "top_box"]].notna().sum().sum() == 0:
            continue
        colour = PALETTE[index % len(PALETTE)]
        label = ctx.name(department)
        for col, column, unit in ((1, "nps_value", ""), (2, "top_box", " %")):
            figure.add_trace(go.Scatter(
                x=rows["month_start_date"], y=rows[column], mode="lines+markers", name=label, legendgroup=label,
                showlegend=col == 1, line={"color": colour}, connectgaps=False,
                hovertemplate=f"{label}<br>%{{x|%b %Y}}: %{{y:.1f}}{unit}<extra></extra>",
            ), row=1, col=col)
    if not figure.data:
        section.notes.append("Every department-month is below the small-cell size: nothing to plot.")
        return section
    figure.update_xaxes(title_text="Month", tickformat="%b %Y", dtick="M1")
    figure.update_yaxes(title_text="NPS (score)", row=1, col=1)
    figure.update_yaxes(title_text="Top-box (%)", range=[0, 100], row=1, col=2)
    section.figure = _layout(figure, x="Month", y="NPS (score)", height=440)
    section.notes.append("Months with fewer than 100 completed surveys are flagged low-sample in the mart.")
    return section


def satisfaction_vs_wait(conn: duckdb.DuckDBPyConnection, ctx: Context) -> Section:
    section = Section(
        "satisfaction-vs-wait", "What waiting costs: NPS by the wait the respondent experienced",
        "Survey respondents of each department split into four equal groups by their door-to-provider time "
        "(Q1 shortest … Q4 longest); NPS within each group. Hover for the wait range.",
        "NPS (score −100…100); x = wait quartile",
    )
    shaped = shaping.nps_by_wait_quartile(data.respondent_waits(conn), min_cell=ctx.min_cell)
    shaped = shaped[shaped["nps"].notna()]
    if shaped.empty:
        section.notes.append(f"No department has a wait quartile with {ctx.min_cell}+ respondents.")
        return section
    figure = go.Figure()
    for index, (department, rows) in enumerate(shaped.groupby("department_code", sort=True)):
        label = ctx.name(department)
        figure.add_trace(go.Bar(
            x=[f"Q{q}" for q in rows["wait_quartile"]], y=rows["nps"], name=label,
            marker_color=PALETTE[index % len(PALETTE)],
            customdata=rows[["wait_min_from", "wait_min_to", "respondents"]].to_numpy(),
            hovertemplate=(
                f"{label} %{{x}}<br>wait %{{customdata[0]:.0f}}–%{{customdata[1]:.0f}} min<br>"
                "NPS %{y:.1f} (%{customdata[2]} respondents)<extra></extra>"
            ),
        ))
    figure.update_layout(barmode="group")
    section.figure = _layout(figure, x="Door-to-provider quartile (Q1 shortest wait)", y="NPS (score)")
    section.notes.append(
        f"Quartiles with fewer than {ctx.min_cell} respondents are not plotted. "
        "Computed from fct_encounters; the mart's NPS-by-wait-quartile columns will replace this when published."
    )
    return section


def cohort_retention(conn: duckdb.DuckDBPyConnection, ctx: Context) -> Section:
    section = Section(
        "cohort-retention", "Cohort retention",
        "Share of patients whose first visit in the data was in the cohort month who visit again in each later "
        "month (month 0 = a second visit within the first month).",
        "% of the cohort's patients",
    )
    frame = data.select(
        conn, "metrics_cohort_retention", ["cohort_month_start_date", "months_since_first_visit", "retention_rate"],
        ["suppressed", "cohort_patients", "is_month_complete"],
    )
    grid = shaping.cohort_grid(frame)
    if grid.empty or grid.isna().all().all():
        section.notes.append("No cohort is large enough to publish.")
        return section
    figure = go.Figure(go.Heatmap(
        z=grid.to_numpy(), x=[f"+{int(m)} mo" for m in grid.columns],
        y=[pd.Timestamp(m).strftime("%b %Y") for m in grid.index], colorscale="Blues", colorbar={"title": "%"},
        hoverongaps=False, hovertemplate="cohort %{y}, %{x}: %{z:.1f} %<extra></extra>",
        text=[[("" if pd.isna(v) else f"{v:.1f}") for v in row] for row in grid.to_numpy()],
        texttemplate="%{text}",
    ))
    figure.update_yaxes(autorange="reversed")
    section.figure = _layout(figure, x="Months since first visit", y="Cohort (first-visit month)", height=360)
    section.notes.append(f"Cohorts under {ctx.min_cell} patients are blank; the latest month may be partial.")
    return section


# (candidate value columns — the first present wins, suppression flag, panel title)
SLA_PANELS: tuple[tuple[tuple[str, ...], str, str], ...] = (
    (("follow_up_day3_on_time_rate", "follow_up_day3_completion_rate"), "follow_up_day3_suppressed",
     "Day-3 follow-up completed on time"),
    (("follow_up_day7_on_time_rate", "follow_up_day7_completion_rate"), "follow_up_day7_suppressed",
     "Day-7 follow-up completed on time"),
    (("follow_up_day30_on_time_rate", "follow_up_day30_completion_rate"), "follow_up_day30_suppressed",
     "Day-30 follow-up completed on time"),
    (("complaint_response_24h_rate",), "complaint_response_24h_suppressed", "Complaints answered within 24 h"),
    (("complaint_resolution_7wd_rate",), "complaint_resolution_7wd_suppressed",
     "Complaints resolved within 7 working days"),
)


def service_sla(conn: duckdb.DuckDBPyConnection, ctx: Context) -> Section:
    section = Section(
        "service-sla", "Follow-up and complaint service levels",
        "Follow-up day k = discharges with a completed contact inside window k ÷ eligible discharges (AHRQ RED); "
        "complaints = first answered within 24 h, and resolved within 7 working days, ÷ complaints whose window "
        "has closed.",
        "% per month of discharge / receipt",
    )
    present = data.table_columns(conn, "metrics_loyalty_monthly")
    panels = [
        (next(c for c in candidates if c in present), flag, title)
        for candidates, flag, title in SLA_PANELS
        if any(c in present for c in candidates)
    ]
    if not panels:
        raise data.MissingData("marts.metrics_loyalty_monthly has none of the follow-up / complaint rate columns")
    frame = data.select(
        conn, "metrics_loyalty_monthly", ["month_start_date", "department_code"],
        [column for panel in panels for column in panel[:2]],
    ).sort_values("month_start_date")
    empty = [title for column, flag, title in panels if shaping.mask_suppressed(frame, column, flag).isna().all()]
    panels = [panel for panel in panels if panel[2] not in empty]
    if empty:
        section.notes.append(f"Nothing to plot yet (every cell suppressed or window still open): {', '.join(empty)}.")
    if not panels:
        return section
    rows_needed = (len(panels) + 1) // 2
    figure = make_subplots(rows=rows_needed, cols=2, subplot_titles=[title for _, _, title in panels],
                           vertical_spacing=0.3 / rows_needed, horizontal_spacing=0.08)
    for number, (column, flag, _) in enumerate(panels):
        row, col = number // 2 + 1, number % 2 + 1
        values = shaping.mask_suppressed(frame, column, flag) * 100.0
        for index, (department, rows) in enumerate(frame.assign(value=values).groupby("department_code", sort=True)):
            if rows["value"].notna().sum() == 0:
                continue
            label = ctx.name(department)
            figure.add_trace(go.Bar(
                x=rows["month_start_date"], y=rows["value"], name=label, legendgroup=label,
                showlegend=number == 0, marker_color=PALETTE[index % len(PALETTE)],
                hovertemplate=f"{label}<br>%{{x|%b %Y}}: %{{y:.1f}} %<extra></extra>",
            ), row=row, col=col)
    if not figure.data:
        section.notes.append("Every department-month is below the small-cell size: nothing to plot.")
        return section
    figure.update_yaxes(range=[0, 100], title_text="%")
    figure.update_xaxes(tickformat="%b %Y", dtick="M1")
    figure.update_layout(barmode="group")
    section.figure = _layout(figure, x="", y="%", height=300 * rows_needed + 80)
    section.notes.append(f"Department-months under {ctx.min_cell} discharges / complaints are not plotted.")
    return section


ATTRIBUTION_MODELS: tuple[tuple[str, str], ...] = (
    ("new_patients_first_touch", "First touch"),
    ("new_patients_last_touch", "Last touch"),
    ("new_patients_linear", "Linear"),
    ("new_patients_position_based", "Position-based 40/20/40"),
    ("new_patients_time_decay", "Time decay"),
)


def campaign_funnel(conn: duckdb.DuckDBPyConnection, ctx: Context) -> Section:
    section = Section(
        "campaign-funnel", "Campaign funnel and new-patient attribution",
        "All campaigns: impressions → clicks → tracked bookings → attended appointments → new patients (linear "
        "attribution); right: new patients credited to each campaign under five attribution models.",
        "count (funnel: people-events; attribution: patients, fractional credit)",
    )
    present = data.table_columns(conn, "metrics_campaign")
    models = [(column, label) for column, label in ATTRIBUTION_MODELS if column in present]
    frame = data.select(
        conn, "metrics_campaign", ["campaign_id"],
        ["campaign_name", "impressions", "clicks", "bookings", "attended", "attribution_suppressed"]
        + [column for column, _ in models],
    )
    headline = "new_patients_linear" if "new_patients_linear" in present else None
    funnel = shaping.campaign_funnel(frame, new_patients=headline)
    if funnel.empty:
        raise data.MissingData("marts.metrics_campaign has none of the funnel columns")
    figure = make_subplots(rows=1, cols=2, column_widths=[0.45, 0.55], specs=[[{"type": "funnel"}, {"type": "xy"}]],
                           subplot_titles=("Funnel (all campaigns)", "New patients by attribution model"))
    figure.add_trace(go.Funnel(y=funnel["label"], x=funnel["count"], textinfo="value+percent initial",
                               marker={"color": "#1f77b4"}, showlegend=False), row=1, col=1)
    campaigns = frame[frame["campaign_id"] != "organic"].copy()
    names = campaigns["campaign_name"] if "campaign_name" in campaigns else campaigns["campaign_id"]
    for index, (column, label) in enumerate(models):
        values = shaping.mask_suppressed(campaigns, column, "attribution_suppressed")
        figure.add_trace(go.Bar(
            x=names, y=values, name=label, marker_color=PALETTE[index % len(PALETTE)],
            hovertemplate=f"%{{x}}<br>{label}: %{{y:.1f}} new patients<extra></extra>",
        ), row=1, col=2)
    figure.update_yaxes(title_text="New patients", row=1, col=2)
    figure.update_layout(barmode="group")
    section.figure = _layout(figure, x="", y="", height=480)
    section.notes.append(
        f"Attribution of campaigns with fewer than {ctx.min_cell} credited patients is suppressed (not plotted); "
        "organic touches are not a campaign and are left out of the attribution chart."
    )
    return section


def kpi_table(conn: duckdb.DuckDBPyConnection, ctx: Context) -> Section:
    section = Section(
        "kpi-status", "KPIs against target (latest complete month)",
        "Actual vs target per KPI from seeds/kpi_targets.csv: on track = target met; at risk = between the target "
        "and the at-risk threshold; off track = beyond it; suppressed = too few units to publish.",
        "as each KPI's unit (rates shown as %)",
    )
    frame = data.select(
        conn, "metrics_kpi_status",
        ["month_start_date", "department_code", "kpi_code", "kpi_value", "target_value", "kpi_status", "unit"],
        ["kpi_description", "direction"],
    )
    span = data.period(conn)
    rows = shaping.latest_kpis(frame, data_end=date.fromisoformat(span[1]) if span else None)
    if rows.empty:
        section.notes.append("metrics_kpi_status is empty.")
        return section
    section.html = render_kpi_table(rows, ctx)
    return section


def render_kpi_table(rows: pd.DataFrame, ctx: Context) -> str:
    """KPIs (rows) × departments (columns); each cell the latest month's value on its status colour."""
    from html import escape

    departments = sorted(rows["department_code"].astype(str).unique(), key=lambda code: ctx.name(code))
    head = "".join(f"<th>{escape(ctx.name(code))}</th>" for code in departments)
    body = []
    for kpi_code, kpi_rows in rows.groupby("kpi_code", sort=True):
        first = kpi_rows.iloc[0]
        description = escape(str(first.get("kpi_description") or kpi_code))
        cells = []
        by_department = {str(record["department_code"]): record for record in kpi_rows.to_dict("records")}
        for code in departments:
            record = by_department.get(code)
            if record is None:
                cells.append("<td class='num'></td>")
                continue
            status = str(record["kpi_status"])
            month = pd.Timestamp(record["month_start_date"]).strftime("%b %Y")
            cells.append(
                f"<td class='num status-cell' style='background:{record['colour']}' "
                f"title='{escape(ctx.name(code))}, {month}: {escape(status.replace('_', ' '))}'>"
                f"{escape(str(record['display_value']))}</td>"
            )
        body.append(
            f"<tr><td>{description}<br><code>{escape(str(kpi_code))}</code></td>"
            f"<td class='num'>{escape(str(first['display_target']))}</td>" + "".join(cells) + "</tr>"
        )
    legend = " ".join(
        f"<span class='status' style='background:{colour}'>{status.replace('_', ' ')}</span>"
        for status, colour in shaping.KPI_STATUS_COLOURS.items() if status != "no_data"
    )
    return (
        f"<p class='units'>{legend} &nbsp; (hover a cell for its month)</p>"
        "<div style='overflow-x:auto'><table class='kpi'><thead><tr><th>KPI</th><th>Target</th>"
        + head + "</tr></thead><tbody>" + "".join(body) + "</tbody></table></div>"
    )

def driver_analysis(conn: duckdb.DuckDBPyConnection, ctx: Context) -> Section:
    from journey.report import drivers

    section = Section(
        "drivers", "Driver analysis: what moves NPS and overall top-box",
        "Standardised OLS coefficients (z-scored outcome and drivers, within department × quarter) with 95 % "
        "confidence intervals: the SD change in the outcome per 1-SD change in the driver, others held constant. "
        "Items coded never=1 … always=4. Associations, not causes.",
        "standardised coefficient (SD per SD); bars = 95 % CI; pick the department · quarter in the menu",
    )
    table = drivers.driver_table(drivers.respondents(conn), min_cell=ctx.min_cell)
    if table.empty:
        section.notes.append("No department × quarter has enough complete survey responses to fit the model.")
        return section
    section.figure = driver_figure(table, ctx)
    section.notes.append(
        f"Fitted where a department × quarter has at least max({ctx.min_cell}, 10 × drivers) complete responses; "
        "computed in Python from fct_encounters (a dbt mart would make it queryable)."
    )
    return section


def driver_figure(table: pd.DataFrame, ctx: Context) -> go.Figure:
    """Coefficients with CIs, one department · quarter at a time (menu); the largest group shown first."""
    from journey.report import drivers

    figure = go.Figure()
    groups: list[str] = []
    sizes: dict[str, int] = {}
    for (department, quarter), group in table.groupby(["department_code", "quarter"], sort=True):
        label = f"{ctx.name(department)} · {quarter}"
        for index, (outcome_code, rows) in enumerate(group.groupby("outcome", sort=False)):
            outcome = str(outcome_code)
            rows = rows.iloc[::-1]
            fit = f"n = {int(rows['n'].iloc[0])}, R² = {rows['r_squared'].iloc[0]:.2f}"
            figure.add_trace(go.Scatter(
                x=rows["beta"], y=[drivers.LABELS.get(d, d) for d in rows["driver"]], mode="markers",
                name=f"{drivers.OUTCOMES[outcome]} ({fit})",
                marker={"color": PALETTE[index], "size": 9, "symbol": "diamond" if index else "circle"},
                error_x={"type": "data", "symmetric": False, "array": rows["ci_high"] - rows["beta"],
                         "arrayminus": rows["beta"] - rows["ci_low"]},
                hovertemplate="%{y}: %{x:.2f} SD/SD<extra>" + drivers.OUTCOMES[outcome] + "</extra>",
            ))
            groups.append(label)
            sizes[label] = max(sizes.get(label, 0), int(rows["n"].iloc[0]))
    labels = sorted(set(groups))
    default = max(labels, key=lambda item: sizes[item])
    for trace, group_label in zip(figure.data, groups, strict=True):
        trace.visible = group_label == default
    menu = _department_menu(labels, groups, default)
    menu[0]["buttons"] = menu[0]["buttons"][1:]  # type: ignore[index]  # no "all": one model at a time
    menu[0]["active"] = labels.index(default)
    figure.update_layout(updatemenus=menu)
    figure.add_vline(x=0, line={"color": "#999", "dash": "dot"})
    return _layout(figure, x="Standardised coefficient (SD of outcome per SD of driver)", y="", height=460)
