"""One function per dashboard section: read the marts (read-only), shape, and draw a plotly figure.

Each returns a Section with a title, a one-line definition and the units, all from the message
catalogue (``ctx.t``). Every trace carries ``meta.department``: the page-wide filter (page.py) shows
the traces of the department chosen, ``hospital`` ones for the whole hospital, ``always`` ones
(targets, hospital-wide charts) whatever is chosen. Suppressed cells are NaN before they reach a
figure, so they show as gaps, never as points.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import duckdb
import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from journey.report import data, messages, shaping

PALETTE = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22",
    "#17becf", "#393b79", "#637939",
)
TARGET_COLOUR = "#555555"
HOSPITAL = "hospital"  # meta.department of the whole-hospital choice's traces
ALWAYS = "always"  # meta.department of traces every filter choice shows


@dataclass(frozen=True)
class Context:
    """What every section needs besides the connection."""

    min_cell: int
    timezone: str
    names: dict[str, str] = field(default_factory=dict)
    language: str = "en"
    data_end: date | None = None  # the last hospital-local day with data: later months are partial
    targets: dict[str, float] = field(default_factory=dict)  # kpi_code → target (seeds/kpi_targets.csv)

    def name(self, code: object) -> str:
        return self.names.get(str(code), str(code))

    def t(self, key: str, **values: object) -> str:
        return messages.t(key, self.language, **values)

    def month(self, month: object) -> str:
        return messages.month_label(month, self.language)

    def partial_hover(self) -> str:
        end = messages.date_label(self.data_end, self.language) if self.data_end else ""
        return self.t("common.partial", end=end)


@dataclass
class Section:
    key: str
    title: str
    definition: str
    units: str
    figure: go.Figure | None = None
    html: str | None = None
    notes: list[str] = field(default_factory=list)
    time_axis: str | None = None  # "daily" / "monthly": the page's period filter sets its x range
    missing: bool = False  # the marts lack what the section needs


def _layout(figure: go.Figure, *, x: str, y: str, height: int = 420) -> go.Figure:
    figure.update_layout(
        template="plotly_white", height=height, margin={"l": 60, "r": 20, "t": 90 if figure.layout.updatemenus else 40,
                                                          "b": 50},
        xaxis_title=x, yaxis_title=y, legend={"orientation": "h", "y": -0.2}, hovermode="closest",
        font={"family": messages.FONT_STACK},
    )
    return figure


def _filter_menu(options: list[tuple[str, list[bool]]], active: int = 0) -> list[dict[str, object]]:
    """A dropdown (plotly updatemenus) whose option i shows the traces ``options[i][1]`` marks."""
    buttons = [{"label": label, "method": "update", "args": [{"visible": visible}]} for label, visible in options]
    return [{"buttons": buttons, "active": active, "x": 0, "y": 1.12, "xanchor": "left", "yanchor": "bottom",
             "direction": "down"}]


def _department_menu(labels: list[str], groups: list[str], default: str | None) -> list[dict[str, object]]:
    """A dropdown that shows one group's traces (or all); ``groups[i]`` is trace i's group (the driver
    chart's department · quarter menu)."""
    options = [("All departments", [True] * len(groups))]
    options += [(label, [group == label for group in groups]) for label in labels]
    return _filter_menu(options, labels.index(default) + 1 if default in labels else 0)


def _meta(department: object) -> dict[str, str]:
    return {"department": str(department)}


def _target_trace(x: pd.Series, value: float | None, label: str, department: str = ALWAYS) -> go.Scatter | None:
    """A dashed horizontal target line over the span of ``x`` (None when there is no target)."""
    if value is None or x.empty:
        return None
    span = [pd.Timestamp(x.min()), pd.Timestamp(x.max())]
    return go.Scatter(
        x=span, y=[value, value], mode="lines", name=label, line={"color": TARGET_COLOUR, "dash": "dash", "width": 1.5},
        hovertemplate=f"{label}<extra></extra>", meta=_meta(department), showlegend=True, legendgroup="target",
    )


def _month_axis(figure: go.Figure, ctx: Context) -> None:
    figure.update_xaxes(type="date", tickformat=messages.month_tickformat(ctx.language), dtick="M1")


def wait_trends(conn: duckdb.DuckDBPyConnection, ctx: Context) -> Section:
    section = Section("wait-trends", ctx.t("wait.title"), ctx.t("wait.definition"), ctx.t("wait.units"),
                      time_axis="daily")
    frame = data.select(
        conn, "metrics_wait_daily",
        ["metric_date", "department_code", "encounter_class", "door_to_provider_p50_min", "door_to_provider_p90_min"],
        ["door_to_provider_suppressed", "door_to_provider_n"],
    ).sort_values("metric_date")
    frame["p50"] = shaping.mask_suppressed(frame, "door_to_provider_p50_min", "door_to_provider_suppressed")
    frame["p90"] = shaping.mask_suppressed(frame, "door_to_provider_p90_min", "door_to_provider_suppressed")
    figure = go.Figure()
    day = messages.day_format(ctx.language)
    unit = ctx.t("unit.minutes")
    for index, ((department, klass), rows) in enumerate(frame.groupby(["department_code", "encounter_class"])):
        if rows["p50"].notna().sum() == 0:
            continue  # every day of this series suppressed: nothing to plot
        colour = PALETTE[index % len(PALETTE)]
        label = f"{ctx.name(department)} · {klass}"
        for column, dash in (("p50", "solid"), ("p90", "dot")):
            figure.add_trace(go.Scatter(
                x=rows["metric_date"], y=rows[column], mode="lines+markers", name=f"{label} {column.upper()}",
                line={"color": colour, "dash": dash}, marker={"size": 4}, legendgroup=label, connectgaps=False,
                hovertemplate=f"{label}<br>%{{x|{day}}}<br>{column.upper()}: %{{y:.0f}} {unit}<extra></extra>",
                meta=_meta(department),
            ))
    if not figure.data:
        section.notes.append(ctx.t("wait.empty"))
        return section
    ed = frame[frame["department_code"] == "emergency"]["metric_date"]
    target = ctx.targets.get("ed_door_to_provider_p90_min")
    line = _target_trace(ed, target, ctx.t("wait.target", value=target or 0), department="emergency")
    if line is not None:
        figure.add_trace(line)
    figure.update_xaxes(type="date", tickformat=messages.day_tickformat(ctx.language))
    section.figure = _layout(figure, x=ctx.t("common.day"), y=ctx.t("wait.y"), height=460)
    suppressed = int(frame["p50"].isna().sum())
    if suppressed:
        section.notes.append(ctx.t("wait.suppressed", count=suppressed, min_cell=ctx.min_cell))
    return section


def arrival_heatmap(conn: duckdb.DuckDBPyConnection, ctx: Context) -> Section:
    section = Section("arrival-heatmap", ctx.t("heat.title"), ctx.t("heat.definition"),
                      ctx.t("heat.units", timezone=ctx.timezone))
    frame = data.select(
        conn, "metrics_wait_by_arrival_hour",
        ["department_code", "encounter_class", "arrival_weekday", "arrival_hour", "door_to_provider_p50_min"],
        ["door_to_provider_p90_min", "door_to_provider_n", "door_to_provider_suppressed"],
    )
    frame["p50"] = shaping.mask_suppressed(frame, "door_to_provider_p50_min", "door_to_provider_suppressed")
    frame["p90"] = shaping.mask_suppressed(frame, "door_to_provider_p90_min", "door_to_provider_suppressed")
    frame["n"] = pd.to_numeric(frame["door_to_provider_n"], errors="coerce") if "door_to_provider_n" in frame else 0.0
    weekdays = [ctx.t(f"weekday.{day}") for day in range(1, 8)]
    figure = go.Figure()
    for department, department_rows in frame.groupby("department_code", sort=True):
        # one heatmap per department: its encounter class with the most visits
        klass = department_rows.groupby("encounter_class")["n"].sum().sort_values(ascending=False).index[0]
        rows = department_rows[department_rows["encounter_class"] == klass]
        medians = shaping.arrival_hour_grid(rows, "p50")
        if medians.isna().all().all():
            continue  # every weekday-hour below the small-cell size: nothing to show
        label = f"{ctx.name(department)} · {klass}"
        detail = [shaping.arrival_hour_grid(rows, column).to_numpy() for column in ("p90", "n")]
        figure.add_trace(go.Heatmap(
            z=medians.to_numpy(), x=[f"{hour:02d}:00" for hour in medians.columns], y=weekdays,
            customdata=np.dstack(detail), colorscale="YlOrRd", colorbar={"title": ctx.t("unit.minutes")},
            hoverongaps=False, name=label, hovertemplate=ctx.t("heat.hover", label=label), meta=_meta(department),
        ))
    if not figure.data:
        section.notes.append(ctx.t("heat.empty"))
        return section
    figure.update_yaxes(autorange="reversed")
    section.figure = _layout(figure, x=ctx.t("heat.x"), y=ctx.t("heat.y"), height=400)
    section.notes.append(ctx.t("heat.note", min_cell=ctx.min_cell))
    return section


def _monthly_traces(
    figure: go.Figure, rows: pd.DataFrame, column: str, *, ctx: Context, label: str, colour: str, department: object,
    hover: str, showlegend: bool, row: int = 1, col: int = 1,
) -> None:
    """A department's monthly line, complete months joined; the partial month a hollow point apart."""
    partial = shaping.is_partial_month(rows["month_start_date"], ctx.data_end)
    month = messages.month_tickformat(ctx.language)
    full, open_ = rows[~partial], rows[partial]
    figure.add_trace(go.Scatter(
        x=full["month_start_date"], y=full[column], mode="lines+markers", name=label, legendgroup=label,
        showlegend=showlegend, line={"color": colour}, connectgaps=False, meta=_meta(department),
        hovertemplate=f"{label}<br>%{{x|{month}}}: {hover}<extra></extra>",
    ), row=row, col=col)
    if not open_.empty:
        figure.add_trace(go.Scatter(
            x=open_["month_start_date"], y=open_[column], mode="markers", legendgroup=label,
            name=f"{label} ({ctx.t('common.partial_short')})", showlegend=False, meta=_meta(department),
            marker={"color": "#fff", "line": {"color": colour, "width": 2}, "size": 9, "symbol": "circle-open"},
            hovertemplate=f"{label}<br>%{{x|{month}}}: {hover}<br>{ctx.partial_hover()}<extra></extra>",
        ), row=row, col=col)


def satisfaction_trends(conn: duckdb.DuckDBPyConnection, ctx: Context) -> Section:
    section = Section("satisfaction-trends", ctx.t("sat.title"), ctx.t("sat.definition"), ctx.t("sat.units"),
                      time_axis="monthly")
    frame = data.select(
        conn, "metrics_satisfaction_monthly", ["month_start_date", "department_code", "nps", "overall_top_box_pct"],
        ["nps_suppressed", "overall_suppressed", "responses", "is_low_sample"],
    ).sort_values("month_start_date")
    frame["nps_value"] = shaping.mask_suppressed(frame, "nps", "nps_suppressed")
    frame["top_box"] = shaping.mask_suppressed(frame, "overall_top_box_pct", "overall_suppressed")
    figure = make_subplots(rows=1, cols=2, subplot_titles=(ctx.t("sat.nps"), ctx.t("sat.top_box")),
                           horizontal_spacing=0.12)
    for index, (department, rows) in enumerate(frame.groupby("department_code", sort=True)):
        if rows[["nps_value", "top_box"]].notna().sum().sum() == 0:
            continue
        for col, column, hover in ((1, "nps_value", "%{y:.1f}"), (2, "top_box", ctx.t("fmt.pct", value=0).replace(
                "0.0", "%{y:.1f}"))):
            _monthly_traces(figure, rows, column, ctx=ctx, label=ctx.name(department), department=department,
                            colour=PALETTE[index % len(PALETTE)], hover=hover, showlegend=col == 1, col=col)
    if not figure.data:
        section.notes.append(ctx.t("sat.empty"))
        return section
    months = frame["month_start_date"]
    for col, code in ((1, "nps"), (2, "overall_top_box_pct")):
        target = ctx.targets.get(code)
        label = f"{ctx.t('common.target')} {ctx.t('kpi.' + code)} {messages.format_kpi(target, 'score', ctx.language)}"
        line = _target_trace(months, target, label)
        if line is not None:
            line.showlegend = col == 1
            figure.add_trace(line, row=1, col=col)
    _month_axis(figure, ctx)
    for name in figure.layout.to_plotly_json():
        if name.startswith("xaxis") and name != "xaxis":  # both panels follow the page's period
            figure.layout[name].matches = "x"
    figure.update_yaxes(title_text=ctx.t("sat.nps_axis"), row=1, col=1)
    figure.update_yaxes(title_text=ctx.t("sat.top_box_axis"), range=[0, 100], row=1, col=2)
    section.figure = _layout(figure, x=ctx.t("common.month"), y=ctx.t("sat.nps_axis"), height=440)
    section.notes.append(ctx.t("sat.note"))
    if ctx.data_end is not None and shaping.is_partial_month(months, ctx.data_end).any():
        section.notes.append(ctx.t("common.partial_note", end=messages.date_label(ctx.data_end, ctx.language)))
    return section


QUARTILE_COLOURS: tuple[str, ...] = ("#9ecae1", "#4292c6", "#fd8d3c", "#d94801")  # Q1 shortest … Q4 longest


def _partial_opacity(months: pd.Series, ctx: Context) -> list[float]:
    """Bar opacity per month: a partial month is drawn faded."""
    return [0.35 if partial else 1.0 for partial in shaping.is_partial_month(months, ctx.data_end)]


def satisfaction_vs_wait(conn: duckdb.DuckDBPyConnection, ctx: Context) -> Section:
    section = Section("satisfaction-vs-wait", ctx.t("vsw.title"), ctx.t("vsw.definition"), ctx.t("vsw.units"),
                      time_axis="monthly")
    wide = data.select(
        conn, "metrics_satisfaction_monthly",
        ["month_start_date", "department_code"] + [f"nps_wait_q{q}" for q in shaping.WAIT_QUARTILES]
        + [f"nps_wait_q{q}_responses" for q in shaping.WAIT_QUARTILES],
        [f"nps_wait_q{q}_suppressed" for q in shaping.WAIT_QUARTILES]
        + [f"wait_q{q}_max_min" for q in shaping.WAIT_QUARTILES[:-1]],
    )
    long = shaping.wait_quartiles_long(wide)
    figure = go.Figure()
    month = messages.month_tickformat(ctx.language)
    for department, rows in long.groupby("department_code", sort=True):
        if rows["nps"].notna().sum() == 0:
            continue  # every quartile of every month below the small-cell size
        label = ctx.name(department)
        for quartile in shaping.WAIT_QUARTILES:
            quartile_rows = rows[rows["wait_quartile"] == quartile]
            partial = shaping.is_partial_month(quartile_rows["month_start_date"], ctx.data_end)
            figure.add_trace(go.Bar(
                x=quartile_rows["month_start_date"], y=quartile_rows["nps"], name=f"Q{quartile}",
                legendgroup=f"Q{quartile}", meta=_meta(department),
                marker={"color": QUARTILE_COLOURS[quartile - 1],
                        "opacity": _partial_opacity(quartile_rows["month_start_date"], ctx)},
                customdata=np.column_stack([
                    [_wait_range(low, high, ctx) for low, high in
                     zip(quartile_rows["wait_min_from"], quartile_rows["wait_min_to"], strict=True)],
                    quartile_rows["respondents"],
                    ["<br>" + ctx.partial_hover() if flag else "" for flag in partial],
                ]),
                hovertemplate=ctx.t("vsw.hover", label=label, quartile=quartile, month=month),
            ))
    if not figure.data:
        section.notes.append(ctx.t("vsw.empty", min_cell=ctx.min_cell))
        return section
    _month_axis(figure, ctx)
    figure.update_layout(barmode="group")
    section.figure = _layout(figure, x=ctx.t("vsw.x"), y=ctx.t("sat.nps_axis"))
    section.notes.append(ctx.t("vsw.note", min_cell=ctx.min_cell))
    return section


def _wait_range(low: float, high: float, ctx: Context) -> str:
    """A quartile's wait range for people: '≤ 12 min', '12–25 min', '> 40 min' (cut points NaN = open)."""
    if pd.isna(low) and pd.isna(high):
        return ctx.t("vsw.range_suppressed")
    if pd.isna(low):
        return ctx.t("vsw.up_to", high=high)
    if pd.isna(high):
        return ctx.t("vsw.over", low=low)
    return ctx.t("vsw.between", low=low, high=high)


def cohort_retention(conn: duckdb.DuckDBPyConnection, ctx: Context) -> Section:
    section = Section("cohort-retention", ctx.t("cohort.title"), ctx.t("cohort.definition"), ctx.t("cohort.units"))
    frame = data.select(
        conn, "metrics_cohort_retention", ["cohort_month_start_date", "months_since_first_visit", "retention_rate"],
        ["suppressed", "cohort_patients", "is_month_complete"],
    )
    grid = shaping.cohort_grid(frame)
    if grid.empty or grid.isna().all().all():
        section.notes.append(ctx.t("cohort.empty"))
        return section
    figure = go.Figure(go.Heatmap(
        z=grid.to_numpy(), x=[ctx.t("cohort.tick", months=int(m)) for m in grid.columns],
        y=[ctx.month(m) for m in grid.index], colorscale="Blues", colorbar={"title": "%"},
        hoverongaps=False, hovertemplate=ctx.t("cohort.hover"), meta=_meta(ALWAYS),
        text=[[("" if pd.isna(v) else f"{v:.1f}") for v in row] for row in grid.to_numpy()],
        texttemplate="%{text}",
    ))
    figure.update_yaxes(autorange="reversed")
    section.figure = _layout(figure, x=ctx.t("cohort.x"), y=ctx.t("cohort.y"), height=360)
    section.notes.append(ctx.t("cohort.note", min_cell=ctx.min_cell))
    section.notes.append(ctx.t("filter.not_filtered"))
    return section


# (candidate value columns — the first present wins, suppression flag, KPI code of its title and target)
SLA_PANELS: tuple[tuple[tuple[str, ...], str, str], ...] = (
    (("follow_up_day3_on_time_rate", "follow_up_day3_completion_rate"), "follow_up_day3_suppressed",
     "follow_up_day3_on_time_rate"),
    (("follow_up_day7_on_time_rate", "follow_up_day7_completion_rate"), "follow_up_day7_suppressed",
     "follow_up_day7_on_time_rate"),
    (("follow_up_day30_on_time_rate", "follow_up_day30_completion_rate"), "follow_up_day30_suppressed",
     "follow_up_day30_on_time_rate"),
    (("complaint_response_24h_rate",), "complaint_response_24h_suppressed", "complaint_response_24h_rate"),
    (("complaint_resolution_7wd_rate",), "complaint_resolution_7wd_suppressed", "complaint_resolution_7wd_rate"),
)


def service_sla(conn: duckdb.DuckDBPyConnection, ctx: Context) -> Section:
    section = Section("service-sla", ctx.t("sla.title"), ctx.t("sla.definition"), ctx.t("sla.units"),
                      time_axis="monthly")
    present = data.table_columns(conn, "metrics_loyalty_monthly")
    panels = [
        (next(c for c in candidates if c in present), flag, kpi)
        for candidates, flag, kpi in SLA_PANELS
        if any(c in present for c in candidates)
    ]
    if not panels:
        raise data.MissingData("marts.metrics_loyalty_monthly has none of the follow-up / complaint rate columns")
    frame = data.select(
        conn, "metrics_loyalty_monthly", ["month_start_date", "department_code"],
        [column for panel in panels for column in panel[:2]],
    ).sort_values("month_start_date")
    empty = [kpi for column, flag, kpi in panels if shaping.mask_suppressed(frame, column, flag).isna().all()]
    panels = [panel for panel in panels if panel[2] not in empty]
    if empty:
        section.notes.append(ctx.t("sla.empty_panels", panels=", ".join(ctx.t(f"kpi.{kpi}") for kpi in empty)))
    if not panels:
        return section
    rows_needed = (len(panels) + 1) // 2
    figure = make_subplots(rows=rows_needed, cols=2, subplot_titles=[ctx.t(f"kpi.{kpi}") for _, _, kpi in panels],
                           vertical_spacing=0.3 / rows_needed, horizontal_spacing=0.08)
    legend: set[str] = set()
    month = messages.month_tickformat(ctx.language)
    pct = ctx.t("fmt.pct", value=0).replace("0.0", "%{y:.1f}")
    for number, (column, flag, kpi) in enumerate(panels):
        row, col = number // 2 + 1, number % 2 + 1
        values = shaping.mask_suppressed(frame, column, flag) * 100.0
        for index, (department, rows) in enumerate(frame.assign(value=values).groupby("department_code", sort=True)):
            if rows["value"].notna().sum() == 0:
                continue
            label = ctx.name(department)
            partial = shaping.is_partial_month(rows["month_start_date"], ctx.data_end)
            figure.add_trace(go.Bar(
                x=rows["month_start_date"], y=rows["value"], name=label, legendgroup=label,
                showlegend=label not in legend, meta=_meta(department),
                marker={"color": PALETTE[index % len(PALETTE)], "opacity": _partial_opacity(rows["month_start_date"],
                                                                                            ctx)},
                customdata=["<br>" + ctx.partial_hover() if flag_ else "" for flag_ in partial],
                hovertemplate=f"{label}<br>%{{x|{month}}}: {pct}%{{customdata}}<extra></extra>",
            ), row=row, col=col)
            legend.add(label)
        target = ctx.targets.get(kpi)
        line = _target_trace(frame["month_start_date"], None if target is None else 100.0 * target,
                             f"{ctx.t('common.target')} {messages.format_kpi(target, 'rate', ctx.language)}")
        if line is not None:
            line.showlegend = number == 0
            line.name = ctx.t("common.target")
            figure.add_trace(line, row=row, col=col)
    if not [trace for trace in figure.data if trace.meta["department"] != ALWAYS]:
        section.notes.append(ctx.t("sla.empty"))
        return section
    figure.update_yaxes(range=[0, 105], title_text="%")
    _month_axis(figure, ctx)
    for name in figure.layout.to_plotly_json():
        if name.startswith("xaxis") and name != "xaxis":
            figure.layout[name].matches = "x"
    figure.update_layout(barmode="group")
    section.figure = _layout(figure, x="", y="%", height=300 * rows_needed + 80)
    section.notes.append(ctx.t("sla.note", min_cell=ctx.min_cell))
    return section


ATTRIBUTION_MODELS: tuple[str, ...] = (
    "new_patients_first_touch", "new_patients_last_touch", "new_patients_linear", "new_patients_position_based",
    "new_patients_time_decay",
)


def campaign_funnel(conn: duckdb.DuckDBPyConnection, ctx: Context) -> Section:
    section = Section("campaign-funnel", ctx.t("funnel.title"), ctx.t("funnel.definition"), ctx.t("funnel.units"))
    present = data.table_columns(conn, "metrics_campaign")
    models = [column for column in ATTRIBUTION_MODELS if column in present]
    frame = data.select(
        conn, "metrics_campaign", ["campaign_id"],
        ["campaign_name", "campaign_type", "department_code", "start_date", "attribution_suppressed",
         *shaping.FUNNEL_STAGES, *models],
    )
    if shaping.campaign_funnel(frame).empty:
        raise data.MissingData(ctx.t("funnel.missing"))
    frame["label"] = _campaign_labels(frame, ctx)
    figure = make_subplots(rows=1, cols=2, column_widths=[0.45, 0.55], specs=[[{"type": "funnel"}, {"type": "xy"}]],
                           subplot_titles=(ctx.t("funnel.left"), ctx.t("funnel.right")), horizontal_spacing=0.18)
    campaigns = frame["campaign_id"] != "organic"
    scopes: list[tuple[str, pd.Series]] = [(HOSPITAL, pd.Series(True, index=frame.index))]
    owners = frame["department_code"]
    scopes += [(str(code), campaigns & (owners == code)) for code in sorted(owners.dropna().astype(str).unique())]
    for scope, mask in scopes:
        subset = frame[mask]
        funnel = shaping.campaign_funnel(subset)
        figure.add_trace(go.Funnel(
            y=[ctx.t(f"funnel.{stage}") for stage in funnel["stage"]], x=funnel["count"],
            texttemplate=ctx.t("funnel.text"), textposition="outside", cliponaxis=False,
            marker={"color": "#1f77b4"}, showlegend=False, meta=_meta(scope),
            hovertemplate=ctx.t("funnel.hover"), connector={"line": {"color": "#9ecae1"}},
        ), row=1, col=1)
        shown = subset[subset["campaign_id"] != "organic"]
        for index, column in enumerate(models):
            model = ctx.t(f"attribution.{column}")
            figure.add_trace(go.Bar(
                x=shown["label"], y=shaping.mask_suppressed(shown, column, "attribution_suppressed"),
                name=model, legendgroup=model, marker_color=PALETTE[index % len(PALETTE)], meta=_meta(scope),
                showlegend=scope == HOSPITAL, customdata=shown["campaign_name"].fillna("")
                if "campaign_name" in shown else None,
                hovertemplate=ctx.t("funnel.bar_hover", model=model).replace("<extra>", "<br>%{customdata}<extra>"),
            ), row=1, col=2)
    figure.update_yaxes(automargin=True, showticklabels=True, row=1, col=1)
    figure.update_yaxes(title_text=ctx.t("funnel.new_patients_axis"), row=1, col=2)
    figure.update_layout(barmode="group")
    section.figure = _layout(figure, x="", y="", height=500)
    section.notes.append(ctx.t("funnel.note", min_cell=ctx.min_cell))
    return section


def _campaign_labels(frame: pd.DataFrame, ctx: Context) -> pd.Series:
    """A campaign in the page's language: its department and type from the catalogue (the CRM's own name
    is free text in whichever language it was typed); the id is added where two labels coincide."""
    departments = frame["department_code"] if "department_code" in frame else pd.Series(None, index=frame.index)
    kinds = frame["campaign_type"] if "campaign_type" in frame else pd.Series(None, index=frame.index)
    labels = pd.Series([_campaign_label(campaign, department, kind, ctx) for campaign, department, kind
                        in zip(frame["campaign_id"], departments, kinds, strict=True)], index=frame.index)
    duplicated = labels.duplicated(keep=False)
    return labels.where(~duplicated, labels + " (" + frame["campaign_id"].astype(str) + ")")


def _campaign_label(campaign: object, department: object, kind: object, ctx: Context) -> str:
    if campaign == "organic":
        return ctx.t("campaign.organic")
    owner = ctx.name(department) if isinstance(department, str) else ctx.t("campaign.hospital_wide")
    key = f"campaign_type.{kind}"
    return f"{owner} · {ctx.t(key if key in messages.CATALOGUE else 'campaign_type.unknown')}"


def kpi_table(conn: duckdb.DuckDBPyConnection, ctx: Context) -> Section:
    from journey.report import kpi_view

    section = Section("kpi-status", ctx.t("kpi.title"), ctx.t("kpi.definition"), ctx.t("kpi.units"))
    frame = data.select(
        conn, "metrics_kpi_status",
        ["month_start_date", "department_code", "kpi_code", "kpi_value", "target_value", "kpi_status", "unit"],
        ["kpi_description", "direction"],
    )
    if frame.empty:
        section.notes.append(ctx.t("kpi.no_rows"))
        return section
    section.html = kpi_view.render(shaping.kpi_changes(frame, data_end=ctx.data_end), ctx)
    return section

def driver_analysis(conn: duckdb.DuckDBPyConnection, ctx: Context) -> Section:
    from journey.report import drivers

    section = Section("drivers", ctx.t("drivers.title"), ctx.t("drivers.definition"), ctx.t("drivers.units"))
    table = drivers.driver_table(drivers.respondents(conn), min_cell=ctx.min_cell)
    if table.empty:
        section.notes.append(ctx.t("drivers.no_fit"))
        return section
    section.figure = driver_figure(table, ctx)
    section.notes.append(ctx.t("drivers.fitted_where", min_cell=ctx.min_cell))
    return section


def driver_figure(table: pd.DataFrame, ctx: Context) -> go.Figure:
    """Left the NPS model (standardised β), right the top-box model (odds ratios, log axis), each titled
    with its method; one department · quarter at a time (menu), the largest group shown first."""
    def text(key: str, **values: object) -> str:
        return ctx.t(f"drivers.{key}", **values)

    methods = ("ols_hc3", "logit")
    figure = make_subplots(rows=1, cols=2, shared_yaxes=True, horizontal_spacing=0.04,
                           subplot_titles=[text(method) for method in methods])
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
            stats = text(method + "_fit", n=int(rows["n"].iloc[0]), fit=rows["goodness_of_fit"].iloc[0])
            figure.add_trace(go.Scatter(
                x=estimate, y=[text(d) for d in rows["driver"]], mode="markers",
                name=f"{text(method)} ({stats})",
                marker={"color": PALETTE[column - 1], "size": 9, "symbol": "diamond" if logit else "circle"},
                error_x={"type": "data", "symmetric": False, "array": high - estimate, "arrayminus": estimate - low},
                hovertemplate="%{y}: %{x:.2f}<extra>" + text(method) + "</extra>",
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
    figure.update_xaxes(title_text=text("ols_hc3_axis"), row=1, col=1)
    odds_ticks = [0.1, 0.2, 0.33, 0.5, 0.67, 1, 1.5, 2, 3, 5, 10]  # plotly's own log ticks read "2" for 0.2
    figure.update_xaxes(title_text=text("logit_axis"), type="log", tickvals=odds_ticks,
                        ticktext=[f"{tick:g}" for tick in odds_ticks], row=1, col=2)
    return _layout(figure, x=text("ols_hc3_axis"), y="", height=480)
