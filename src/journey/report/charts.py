"""One function per dashboard section: read the marts (read-only), shape, and draw a plotly figure.

Each returns a Section with a title, a one-line definition and the units; suppressed cells are
NaN before they reach a figure, so they show as gaps, never as points.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import duckdb
import numpy as np
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
        template="plotly_white", height=height, margin={"l": 60, "r": 20, "t": 90 if figure.layout.updatemenus else 40,
                                                          "b": 50},
        xaxis_title=x, yaxis_title=y, legend={"orientation": "h", "y": -0.2}, hovermode="closest",
    )
    return figure


def _filter_menu(options: list[tuple[str, list[bool]]], active: int = 0) -> list[dict[str, object]]:
    """A dropdown (plotly updatemenus) whose option i shows the traces ``options[i][1]`` marks."""
    buttons = [{"label": label, "method": "update", "args": [{"visible": visible}]} for label, visible in options]
    return [{"buttons": buttons, "active": active, "x": 0, "y": 1.12, "xanchor": "left", "yanchor": "bottom",
             "direction": "down"}]


def _department_menu(labels: list[str], groups: list[str], default: str | None) -> list[dict[str, object]]:
    """A dropdown that shows one department's traces (or all); ``groups[i]`` is trace i's department."""
    options = [("All departments", [True] * len(groups))]
    options += [(label, [group == label for group in groups]) for label in labels]
    return _filter_menu(options, labels.index(default) + 1 if default in labels else 0)


def _department_filter(figure: go.Figure, groups: list[str], default: str | None = None) -> None:
    """Department dropdown over the figure's traces (``groups[i]``: trace i's department); only
    ``default``'s traces are shown first (all when None)."""
    labels = sorted(set(groups))
    if default is not None and default in labels:
        for trace, group in zip(figure.data, groups, strict=True):
            trace.visible = group == default
    figure.update_layout(updatemenus=_department_menu(labels, groups, default if default in labels else None))


# period presets of the time axis, counted back from the latest data; "All" = the whole period
DAILY_PERIODS: tuple[tuple[int, str, str], ...] = ((7, "day", "7 d"), (1, "month", "1 mo"), (3, "month", "3 mo"))
MONTHLY_PERIODS: tuple[tuple[int, str, str], ...] = ((3, "month", "3 mo"), (6, "month", "6 mo"), (1, "year", "1 y"))


def _period_filter(figure: go.Figure, presets: tuple[tuple[int, str, str], ...], *, slider: bool = False) -> None:
    """Period buttons (plotly rangeselector) on the time axis; every subplot's time axis follows the
    first, so one choice filters the whole chart. ``slider`` adds a range slider under it."""
    buttons = [{"count": count, "step": step, "stepmode": "backward", "label": label} for count, step, label in presets]
    buttons.append({"step": "all", "label": "All"})
    figure.update_xaxes(type="date")
    for name in figure.layout.to_plotly_json():
        if name.startswith("xaxis") and name != "xaxis":  # subplots' time axes follow the first
            figure.layout[name].matches = "x"
    figure.update_layout(xaxis={"rangeselector": {"buttons": buttons, "x": 1, "xanchor": "right", "y": 1.12,
                                                  "yanchor": "bottom"}})
    if slider:
        figure.update_layout(xaxis={"rangeslider": {"visible": True, "thickness": 0.06}})


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
    _department_filter(figure, groups, ctx.name("emergency"))
    _period_filter(figure, DAILY_PERIODS, slider=True)
    section.figure = _layout(figure, x="Day (hospital-local)", y="Door-to-provider (minutes)", height=500)
    section.figure.update_layout(legend={"orientation": "v", "x": 1.01, "y": 1})  # the slider is below
    suppressed = int(frame["p50"].isna().sum())
    if suppressed:
        section.notes.append(
            f"{suppressed} department-days with fewer than {ctx.min_cell} visits are suppressed (gaps)."
        )
    return section


def arrival_heatmap(conn: duckdb.DuckDBPyConnection, ctx: Context) -> Section:
    section = Section(
        "arrival-heatmap", "Door-to-provider by hour of arrival × weekday",
        "Median minutes from arrival to first provider contact (LWBS excluded) by the hospital-local weekday and "
        "hour of arrival, over the whole period, per department and encounter class (emergency first); hover for "
        "the 90th percentile and the number of visits. From marts.metrics_wait_by_arrival_hour.",
        f"minutes (median); hours in {ctx.timezone}",
    )
    frame = data.select(
        conn, "metrics_wait_by_arrival_hour",
        ["department_code", "encounter_class", "arrival_weekday", "arrival_hour", "door_to_provider_p50_min"],
        ["door_to_provider_p90_min", "door_to_provider_n", "door_to_provider_suppressed"],
    )
    frame["p50"] = shaping.mask_suppressed(frame, "door_to_provider_p50_min", "door_to_provider_suppressed")
    frame["p90"] = shaping.mask_suppressed(frame, "door_to_provider_p90_min", "door_to_provider_suppressed")
    frame["n"] = frame["door_to_provider_n"] if "door_to_provider_n" in frame else float("nan")
    figure = go.Figure()
    groups: list[str] = []
    blank: dict[str, int] = {}
    for (department, klass), rows in frame.groupby(["department_code", "encounter_class"], sort=True):
        medians = shaping.arrival_hour_grid(rows, "p50")
        if medians.isna().all().all():
            continue  # every weekday-hour below the small-cell size: nothing to show
        label = f"{ctx.name(department)} · {klass}"
        detail = [shaping.arrival_hour_grid(rows, column).to_numpy() for column in ("p90", "n")]
        figure.add_trace(go.Heatmap(
            z=medians.to_numpy(), x=[f"{hour:02d}:00" for hour in medians.columns], y=list(shaping.WEEKDAYS),
            customdata=np.dstack(detail), colorscale="YlOrRd", colorbar={"title": "min"}, hoverongaps=False,
            name=label, hovertemplate=(
                f"{label}<br>%{{y}} %{{x}}<br>median %{{z:.0f}} min, p90 %{{customdata[0]:.0f}} min"
                "<br>%{customdata[1]:.0f} visits with a wait<extra></extra>"
            ),
        ))
        groups.append(label)
        blank[label] = int(medians.isna().to_numpy().sum())
    if not groups:
        section.notes.append("No weekday-hour of any department has enough visits to publish.")
        return section
    default = next((label for label in groups if label.startswith(f"{ctx.name('emergency')} · ")), groups[0])
    for trace, group in zip(figure.data, groups, strict=True):
        trace.visible = group == default
    figure.update_layout(updatemenus=_filter_menu([(group, [g == group for g in groups]) for group in groups],
                                                  groups.index(default)))
    figure.update_yaxes(autorange="reversed")
    section.figure = _layout(figure, x="Hour of arrival (local)", y="Weekday", height=400)
    section.notes.append(
        f"Weekday-hours with fewer than {ctx.min_cell} visits, or none, are left blank "
        f"({blank[default]} of 168 for {default})."
    )
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
    groups: list[str] = []
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
            groups.append(label)
    if not figure.data:
        section.notes.append("Every department-month is below the small-cell size: nothing to plot.")
        return section
    _department_filter(figure, groups)
    _period_filter(figure, MONTHLY_PERIODS)
    figure.update_xaxes(title_text="Month", tickformat="%b %Y", dtick="M1")
    figure.update_yaxes(title_text="NPS (score)", row=1, col=1)
    figure.update_yaxes(title_text="Top-box (%)", range=[0, 100], row=1, col=2)
    section.figure = _layout(figure, x="Month", y="NPS (score)", height=440)
    section.notes.append("Months with fewer than 100 completed surveys are flagged low-sample in the mart.")
    return section


QUARTILE_COLOURS: tuple[str, ...] = ("#9ecae1", "#4292c6", "#fd8d3c", "#d94801")  # Q1 shortest … Q4 longest


def satisfaction_vs_wait(conn: duckdb.DuckDBPyConnection, ctx: Context) -> Section:
    section = Section(
        "satisfaction-vs-wait", "What waiting costs: NPS by the wait the respondent experienced",
        "Each month, a department's non-LWBS visits are split into quartiles of door-to-provider time (Q1 "
        "shortest … Q4 longest); NPS of the survey respondents whose visit fell in each quartile. Hover for the "
        "quartile's wait range. From marts.metrics_satisfaction_monthly (nps_wait_q1 … q4).",
        "NPS (score −100…100); x = month of the visit; bars = wait quartiles",
    )
    wide = data.select(
        conn, "metrics_satisfaction_monthly",
        ["month_start_date", "department_code"] + [f"nps_wait_q{q}" for q in shaping.WAIT_QUARTILES]
        + [f"nps_wait_q{q}_responses" for q in shaping.WAIT_QUARTILES],
        [f"nps_wait_q{q}_suppressed" for q in shaping.WAIT_QUARTILES]
        + [f"wait_q{q}_max_min" for q in shaping.WAIT_QUARTILES[:-1]],
    )
    long = shaping.wait_quartiles_long(wide)
    figure = go.Figure()
    groups: list[str] = []
    for department, rows in long.groupby("department_code", sort=True):
        if rows["nps"].notna().sum() == 0:
            continue  # every quartile of every month below the small-cell size
        label = ctx.name(department)
        for quartile in shaping.WAIT_QUARTILES:
            quartile_rows = rows[rows["wait_quartile"] == quartile]
            figure.add_trace(go.Bar(
                x=quartile_rows["month_start_date"], y=quartile_rows["nps"], name=f"Q{quartile}",
                legendgroup=f"Q{quartile}", marker_color=QUARTILE_COLOURS[quartile - 1],
                customdata=np.column_stack([
                    [_wait_range(low, high) for low, high in
                     zip(quartile_rows["wait_min_from"], quartile_rows["wait_min_to"], strict=True)],
                    quartile_rows["respondents"],
                ]),
                hovertemplate=(
                    f"{label} · Q{quartile}<br>%{{x|%b %Y}}: wait %{{customdata[0]}}"
                    "<br>NPS %{y:.1f} (%{customdata[1]} respondents)<extra></extra>"
                ),
            ))
            groups.append(label)
    if not groups:
        section.notes.append(f"No department-month has a wait quartile with {ctx.min_cell}+ respondents.")
        return section
    # one department at a time (four bars a month each): no "all departments" option
    labels = sorted(set(groups))
    default = ctx.name("emergency") if ctx.name("emergency") in labels else labels[0]
    for trace, group in zip(figure.data, groups, strict=True):
        trace.visible = group == default
    figure.update_layout(updatemenus=_filter_menu([(label, [g == label for g in groups]) for label in labels],
                                                  labels.index(default)))
    _period_filter(figure, MONTHLY_PERIODS)
    figure.update_xaxes(tickformat="%b %Y", dtick="M1")
    figure.update_layout(barmode="group")
    section.figure = _layout(figure, x="Month of the visit", y="NPS (score)")
    section.notes.append(f"Quartiles with fewer than {ctx.min_cell} respondents are suppressed in the mart and not "
                         "plotted.")
    return section


def _wait_range(low: float, high: float) -> str:
    """A quartile's wait range for people: '≤ 12 min', '12–25 min', '> 40 min' (cut points NaN = open)."""
    if pd.isna(low) and pd.isna(high):
        return "range suppressed"
    if pd.isna(low):
        return f"≤ {high:.0f} min"
    if pd.isna(high):
        return f"> {low:.0f} min"
    return f"{low:.0f}–{high:.0f} min"


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
    groups: list[str] = []
    legend: set[str] = set()
    for number, (column, flag, _) in enumerate(panels):
        row, col = number // 2 + 1, number % 2 + 1
        values = shaping.mask_suppressed(frame, column, flag) * 100.0
        for index, (department, rows) in enumerate(frame.assign(value=values).groupby("department_code", sort=True)):
            if rows["value"].notna().sum() == 0:
                continue
            label = ctx.name(department)
            figure.add_trace(go.Bar(
                x=rows["month_start_date"], y=rows["value"], name=label, legendgroup=label,
                showlegend=label not in legend, marker_color=PALETTE[index % len(PALETTE)],
                hovertemplate=f"{label}<br>%{{x|%b %Y}}: %{{y:.1f}} %<extra></extra>",
            ), row=row, col=col)
            groups.append(label)
            legend.add(label)
    if not figure.data:
        section.notes.append("Every department-month is below the small-cell size: nothing to plot.")
        return section
    _department_filter(figure, groups)
    _period_filter(figure, MONTHLY_PERIODS)
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
        "Impressions → clicks → tracked bookings → attended appointments → new patients (linear attribution); "
        "right: new patients credited to each campaign under five attribution models. The menu narrows both to "
        "one department's campaigns or to the campaigns started in one quarter.",
        "count (funnel: people-events; attribution: patients, fractional credit)",
    )
    present = data.table_columns(conn, "metrics_campaign")
    models = [(column, label) for column, label in ATTRIBUTION_MODELS if column in present]
    frame = data.select(
        conn, "metrics_campaign", ["campaign_id"],
        ["campaign_name", "department_code", "start_date", "impressions", "clicks", "bookings", "attended",
         "attribution_suppressed"] + [column for column, _ in models],
    )
    headline = "new_patients_linear" if "new_patients_linear" in present else None
    if shaping.campaign_funnel(frame, new_patients=headline).empty:
        raise data.MissingData("marts.metrics_campaign has none of the funnel columns")
    frame["label"] = _campaign_labels(frame)
    figure = make_subplots(rows=1, cols=2, column_widths=[0.45, 0.55], specs=[[{"type": "funnel"}, {"type": "xy"}]],
                           subplot_titles=("Funnel", "New patients by attribution model"))
    options: list[tuple[str, int]] = []  # (menu label, number of traces)
    for kind, value, mask in shaping.campaign_subsets(frame):
        subset = frame[mask]
        funnel = shaping.campaign_funnel(subset, new_patients=headline)
        figure.add_trace(go.Funnel(y=funnel["label"], x=funnel["count"], textinfo="value+percent initial",
                                   marker={"color": "#1f77b4"}, showlegend=False), row=1, col=1)
        campaigns = subset[subset["campaign_id"] != "organic"]
        for index, (column, label) in enumerate(models):
            figure.add_trace(go.Bar(
                x=campaigns["label"], y=shaping.mask_suppressed(campaigns, column, "attribution_suppressed"),
                name=label, legendgroup=label, marker_color=PALETTE[index % len(PALETTE)],
                hovertemplate=f"%{{x}}<br>{label}: %{{y:.1f}} new patients<extra></extra>",
            ), row=1, col=2)
        options.append((_campaign_option(kind, value, ctx), 1 + len(models)))
    owners = [number for number, (_, count) in enumerate(options) for _ in range(count)]
    for trace, owner in zip(figure.data, owners, strict=True):
        trace.visible = owner == 0
    figure.update_layout(updatemenus=_filter_menu(
        [(label, [owner == number for owner in owners]) for number, (label, _) in enumerate(options)]
    ))
    figure.update_yaxes(title_text="New patients", row=1, col=2)
    figure.update_layout(barmode="group")
    section.figure = _layout(figure, x="", y="", height=500)
    section.notes.append(
        f"Attribution of campaigns with fewer than {ctx.min_cell} credited patients is suppressed (not plotted); "
        "organic touches are not a campaign: they count in the all-campaigns funnel only."
    )
    return section


def _campaign_option(kind: str, value: str, ctx: Context) -> str:
    if kind == "department":
        return f"{ctx.name(value)} campaigns" if value else "Hospital-wide campaigns"
    if kind == "quarter":
        return f"Campaigns started {value}"
    return "All campaigns and organic"


def _campaign_labels(frame: pd.DataFrame) -> pd.Series:
    """The campaign's name on the axis; the id is added where two campaigns share a name."""
    names = frame["campaign_name"].fillna(frame["campaign_id"]) if "campaign_name" in frame else frame["campaign_id"]
    duplicated = names.duplicated(keep=False)
    return names.where(~duplicated, names + " (" + frame["campaign_id"] + ")")


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

#: Every string the driver chart draws, in one place so it can be translated (the method is stated on
#: the chart: which model, which errors, per outcome).
DRIVER_TEXT: dict[str, str] = {
    "title": "Driver analysis: what moves NPS and overall top-box",
    "definition": "Per department × quarter, from marts.fct_survey_driver_inputs. NPS score: OLS on z-scored "
    "drivers with HC3 heteroskedasticity-robust 95 % CIs (SD change in the score per 1-SD change in the "
    "driver, others held constant). Overall top-box (rating 9-10): logistic regression, odds ratio per 1-SD "
    "change with 95 % Wald CIs. Items coded never=1 … always=4. Associations, not causes.",
    "units": "left: standardised coefficient (SD per SD); right: odds ratio per SD (log scale); bars = 95 % CI; "
    "pick the department · quarter in the menu",
    "ols_hc3": "NPS score: OLS, HC3 robust errors",
    "logit": "Overall top-box: logistic regression",
    "ols_hc3_axis": "SD of NPS score per SD of driver",
    "logit_axis": "odds ratio of top-box per SD of driver",
    "ols_hc3_fit": "n = {n}, R² = {fit:.2f}",
    "logit_fit": "n = {n}, pseudo R² = {fit:.2f}",
    "no_fit": "No department × quarter has enough complete survey responses to fit the models.",
    "fitted_where": "Fitted where a department × quarter has at least max({min_cell}, 10 × drivers) complete "
    "responses; a logistic fit that does not converge or separates the outcome perfectly is not shown.",
    "nurse_communication_score": "Nurse communication", "doctor_communication_score": "Doctor communication",
    "responsiveness_score": "Responsiveness", "cleanliness_score": "Cleanliness", "quietness_score": "Quietness",
    "discharge_information_score": "Discharge information", "door_to_provider_min": "Door-to-provider (min)",
    "length_of_stay_hours": "Length of stay (h)", "booking_lead_time_days": "Booking lead time (days)",
    "prior_no_shows": "Prior no-shows",
}


def driver_analysis(conn: duckdb.DuckDBPyConnection, ctx: Context) -> Section:
    from journey.report import drivers

    text = DRIVER_TEXT
    section = Section("drivers", text["title"], text["definition"], text["units"])
    table = drivers.driver_table(drivers.respondents(conn), min_cell=ctx.min_cell)
    if table.empty:
        section.notes.append(text["no_fit"])
        return section
    section.figure = driver_figure(table, ctx)
    section.notes.append(text["fitted_where"].format(min_cell=ctx.min_cell))
    return section


def driver_figure(table: pd.DataFrame, ctx: Context) -> go.Figure:
    """Left the NPS model (standardised β), right the top-box model (odds ratios, log axis), each titled
    with its method; one department · quarter at a time (menu), the largest group shown first."""
    text = DRIVER_TEXT
    methods = ("ols_hc3", "logit")
    figure = make_subplots(rows=1, cols=2, shared_yaxes=True, horizontal_spacing=0.04,
                           subplot_titles=[text[method] for method in methods])
    groups: list[str] = []
    sizes: dict[str, int] = {}
    for (department, quarter), group in table.groupby(["department_code", "quarter"], sort=True):
        label = f"{ctx.name(department)} · {quarter}"
        for column, method in enumerate(methods, start=1):
            rows = group[group["method"] == method].iloc[::-1]
            if rows.empty:
                continue
            logit = method == "logit"
            estimate, low, high = (np.exp(rows[c]) if logit else rows[c] for c in ("estimate", "ci_low", "ci_high"))
            stats = text[method + "_fit"].format(n=int(rows["n"].iloc[0]), fit=rows["goodness_of_fit"].iloc[0])
            figure.add_trace(go.Scatter(
                x=estimate, y=[text.get(d, d) for d in rows["driver"]], mode="markers",
                name=f"{text[method]} ({stats})",
                marker={"color": PALETTE[column - 1], "size": 9, "symbol": "diamond" if logit else "circle"},
                error_x={"type": "data", "symmetric": False, "array": high - estimate, "arrayminus": estimate - low},
                hovertemplate="%{y}: %{x:.2f}<extra>" + text[method] + "</extra>",
            ), row=1, col=column)
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
    figure.add_vline(x=0, line={"color": "#999", "dash": "dot"}, row=1, col=1)
    figure.add_vline(x=1, line={"color": "#999", "dash": "dot"}, row=1, col=2)  # odds ratio 1: no association
    figure.update_xaxes(title_text=text["ols_hc3_axis"], row=1, col=1)
    odds_ticks = [0.1, 0.2, 0.33, 0.5, 0.67, 1, 1.5, 2, 3, 5, 10]  # plotly's own log ticks read "2" for 0.2
    figure.update_xaxes(title_text=text["logit_axis"], type="log", tickvals=odds_ticks,
                        ticktext=[f"{tick:g}" for tick in odds_ticks], row=1, col=2)
    return _layout(figure, x=text["ols_hc3_axis"], y="", height=480)
