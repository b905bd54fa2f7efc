"""The dashboard's message catalogue (zh-CN and English) and its number and date formats.

Every label, title, definition, unit and menu of the page comes from ``CATALOGUE`` through ``t``;
a chart (the driver chart included) calls ``ctx.t(key)`` rather than holding strings of its own.
"""

from __future__ import annotations

import math
from datetime import date
from typing import Literal

import pandas as pd

Language = Literal["zh-CN", "en"]
LANGUAGES: tuple[Language, ...] = ("zh-CN", "en")

# Hospital time zones whose managers read Simplified Chinese: the default language when none is set.
CHINESE_TIMEZONES = frozenset({
    "Asia/Shanghai", "Asia/Chongqing", "Asia/Chungking", "Asia/Harbin", "Asia/Urumqi", "Asia/Kashgar", "PRC",
})

# Latin system fonts first, then a CJK face present on each platform: Windows (Microsoft YaHei), macOS
# (PingFang SC, Hiragino Sans GB), Linux (Noto Sans CJK SC, Source Han Sans SC, WenQuanYi Micro Hei).
FONT_STACK = (
    '-apple-system, BlinkMacSystemFont, "Segoe UI", Roboto, "Helvetica Neue", Arial, "PingFang SC", '
    '"Hiragino Sans GB", "Microsoft YaHei", "Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", '
    '"WenQuanYi Micro Hei", sans-serif'
)


def resolve_language(setting: str | None, timezone: str) -> Language:
    """The setting when given, else zh-CN for a hospital in a mainland-China time zone, else English."""
    if setting is not None:
        if setting not in LANGUAGES:
            raise ValueError(f"report language must be one of {', '.join(LANGUAGES)}, not {setting!r}")
        return setting  # type: ignore[return-value]
    return "zh-CN" if timezone in CHINESE_TIMEZONES else "en"


def t(key: str, language: str, **values: object) -> str:
    """The message ``key`` in ``language``, formatted with ``values`` (KeyError names a missing key)."""
    text = CATALOGUE[key]["zh" if language == "zh-CN" else "en"]
    return text.format(**values) if values else text


def month_label(month: object, language: str) -> str:
    """'Mar 2026' / '2026年3月'."""
    stamp = pd.Timestamp(month)  # type: ignore[arg-type]
    return f"{stamp.year}年{stamp.month}月" if language == "zh-CN" else stamp.strftime("%b %Y")


def month_tickformat(language: str) -> str:
    """The d3 format plotly draws month ticks with."""
    return "%Y年%-m月" if language == "zh-CN" else "%b %Y"


def day_tickformat(language: str) -> str:
    """The d3 format plotly draws day ticks with ('3月8日' / 'Mar 8')."""
    return "%-m月%-d日" if language == "zh-CN" else "%b %-d"


def day_format(language: str) -> str:
    return "%Y年%-m月%-d日" if language == "zh-CN" else "%Y-%m-%d"


def date_label(day: date, language: str) -> str:
    return f"{day.year}年{day.month}月{day.day}日" if language == "zh-CN" else day.isoformat()


def _missing(value: object) -> bool:
    if value is None:
        return True
    try:
        return bool(pd.isna(value))  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return False


def format_kpi(value: object, unit: object, language: str) -> str:
    """A KPI value: rate 0.953 → '95.3 %' / '95.3%', pct 72 → '72.0 %', minutes → '41 min' / '41 分钟'."""
    if _missing(value):
        return "—"
    number = float(value)  # type: ignore[arg-type]
    if unit in ("rate", "pct"):
        return t("fmt.pct", language, value=(100 * number if unit == "rate" else number))
    if unit == "minutes":
        return t("fmt.minutes", language, value=number)
    if unit == "hours":
        return t("fmt.hours", language, value=number)
    return f"{number:.1f}"


def format_change(delta: object, unit: object, language: str) -> str:
    """A change between two months: rates and % in percentage points, others in their unit, signed."""
    if _missing(delta) or math.isnan(float(delta)):  # type: ignore[arg-type]
        return "—"
    number = float(delta)  # type: ignore[arg-type]
    if unit in ("rate", "pct"):
        return t("fmt.points", language, value=(100 * number if unit == "rate" else number))
    if unit == "minutes":
        return t("fmt.minutes_signed", language, value=number)
    return f"{number:+.1f}"


# key → {"en": …, "zh": …}; {placeholders} are filled by t(key, language, **values)
CATALOGUE: dict[str, dict[str, str]] = {
    # number formats
    "fmt.pct": {"en": "{value:.1f} %", "zh": "{value:.1f}%"},
    "fmt.points": {"en": "{value:+.1f} pp", "zh": "{value:+.1f} 个百分点"},
    "fmt.minutes": {"en": "{value:.0f} min", "zh": "{value:.0f} 分钟"},
    "fmt.minutes_signed": {"en": "{value:+.0f} min", "zh": "{value:+.0f} 分钟"},
    "unit.minutes": {"en": "min", "zh": "分钟"},
    "fmt.hours": {"en": "{value:.1f} h", "zh": "{value:.1f} 小时"},
    # page
    "page.html_lang": {"en": "en", "zh": "zh-CN"},
    "page.title": {"en": "Patient experience dashboard", "zh": "患者体验看板"},
    "page.period": {"en": "Period: {start} to {end} (hospital-local, {timezone})",
                    "zh": "数据期间：{start} 至 {end}（医院本地时间，{timezone}）"},
    "page.no_period": {"en": "Period: no data yet", "zh": "数据期间：暂无数据"},
    "page.generated": {
        "en": "Generated {at} from {source}; cells over fewer than {min_cell} units are suppressed and never plotted.",
        "zh": "生成于 {at}，数据来自 {source}；少于 {min_cell} 个单位的单元格不公布、不绘制。",
    },
    "page.footer": {
        "en": "Built by journey report from the published warehouse (read-only). Every chart's camera button "
              "downloads it as PNG. Definitions and lineage: the dbt docs site (journey docs).",
        "zh": "由 journey report 从已发布的数据仓库（只读）生成。每个图表的相机按钮可下载 PNG。"
              "指标定义与血缘：dbt 文档站点（journey docs）。",
    },
    "page.definition": {"en": "Definition.", "zh": "定义："},
    "page.units": {"en": "Units:", "zh": "单位："},
    "page.unavailable": {"en": "Not available: {reason}.", "zh": "暂不可用：{reason}。"},
    "filter.department": {"en": "Department", "zh": "科室"},
    "filter.hospital": {"en": "Whole hospital", "zh": "全院"},
    "filter.from": {"en": "From", "zh": "起始月"},
    "filter.to": {"en": "To", "zh": "截止月"},
    "filter.help": {
        "en": "One filter for the whole page: every chart and the KPI tiles follow it.",
        "zh": "整页统一筛选：所有图表和 KPI 卡片均随之更新。",
    },
    "filter.empty": {
        "en": "Nothing to show for this department and period.",
        "zh": "该科室与期间暂无可显示的数据。",
    },
    "filter.no_hospital_total": {
        "en": "No hospital-wide total in the marts for this chart yet: choose a department.",
        "zh": "数据集市暂无该图表的全院合计：请选择一个科室。",
    },
    "filter.not_filtered": {"en": "Hospital-wide, whole period: not narrowed by the filter.",
                            "zh": "全院、全期间数据：不随筛选变化。"},
    "common.target": {"en": "Target", "zh": "目标"},
    "common.partial": {"en": "partial month (data to {end})", "zh": "未满月（数据截至 {end}）"},
    "common.partial_short": {"en": "partial", "zh": "未满月"},
    "common.partial_note": {
        "en": "The latest month is partial (data to {end}): drawn faded / hollow and never compared as a full month.",
        "zh": "最近一个月数据未满（截至 {end}）：以浅色或空心标出，不与整月比较。",
    },
    "common.month": {"en": "Month", "zh": "月份"},
    "common.day": {"en": "Day (hospital-local)", "zh": "日期（医院本地）"},
    # KPI tiles and matrix
    "kpi.title": {"en": "KPIs against target", "zh": "KPI 与目标"},
    "kpi.definition": {
        "en": "Actual vs target per KPI from seeds/kpi_targets.csv: on track = target met; at risk = between the "
              "target and the at-risk threshold; off track = beyond it; suppressed = too few units to publish. "
              "Change = against the previous month and the same month last year, full months only.",
        "zh": "各 KPI 实际值与目标（seeds/kpi_targets.csv）对比：达标 = 达到目标；预警 = 介于目标与预警线之间；"
              "未达标 = 超出预警线；不公布 = 样本过少。环比 = 与上月比，同比 = 与去年同月比，仅比较完整月份。",
    },
    "kpi.units": {"en": "as each KPI's unit (rates shown as %; changes of rates in percentage points)",
                  "zh": "按各 KPI 的单位（比率以 % 显示，其变化以百分点显示）"},
    "kpi.month": {"en": "Month: {month}", "zh": "月份：{month}"},
    "kpi.value": {"en": "Value", "zh": "实际值"},
    "kpi.vs_last_month": {"en": "vs last month", "zh": "环比"},
    "kpi.vs_last_year": {"en": "vs same month last year", "zh": "同比"},
    "kpi.no_comparison": {"en": "no full month to compare", "zh": "无可比较的完整月份"},
    "kpi.matrix_caption": {"en": "Every department, {month}", "zh": "各科室，{month}"},
    "kpi.column": {"en": "KPI", "zh": "指标"},
    "kpi.no_rows": {"en": "metrics_kpi_status is empty.", "zh": "metrics_kpi_status 为空。"},
    "kpi.no_tiles": {"en": "No KPI for this department in this month.", "zh": "该科室本月暂无 KPI。"},
    "status.on_track": {"en": "on track", "zh": "达标"},
    "status.at_risk": {"en": "at risk", "zh": "预警"},
    "status.off_track": {"en": "off track", "zh": "未达标"},
    "status.suppressed": {"en": "suppressed", "zh": "不公布"},
    "status.no_data": {"en": "no data", "zh": "无数据"},
    "kpi.nps": {"en": "NPS", "zh": "净推荐值（NPS）"},
    "kpi.overall_top_box_pct": {"en": "Overall top-box (9-10)", "zh": "总体评价高分率（9-10 分）"},
    "kpi.response_rate": {"en": "Survey response rate", "zh": "问卷回复率"},
    "kpi.ed_door_to_provider_p90_min": {"en": "ED door-to-provider, p90", "zh": "急诊到院至接诊时间 P90"},
    "kpi.follow_up_day3_on_time_rate": {"en": "Day-3 follow-up on time", "zh": "第 3 天随访按时完成率"},
    "kpi.follow_up_day7_on_time_rate": {"en": "Day-7 follow-up on time", "zh": "第 7 天随访按时完成率"},
    "kpi.follow_up_day30_on_time_rate": {"en": "Day-30 follow-up on time", "zh": "第 30 天随访按时完成率"},
    "kpi.complaint_response_24h_rate": {"en": "Complaints answered in 24 h", "zh": "投诉 24 小时内响应率"},
    "kpi.complaint_resolution_7wd_rate": {"en": "Complaints resolved in 7 working days",
                                          "zh": "投诉 7 个工作日内解决率"},
    # wait trends
    "wait.title": {"en": "Door-to-provider wait, daily p50 and p90", "zh": "到院至接诊等候时间（每日 P50 与 P90）"},
    "wait.definition": {
        "en": "Minutes from arrival to first provider contact (CMS OP-20 sense); median (solid) and 90th percentile "
              "(dotted) of the day's visits, LWBS excluded, by encounter class.",
        "zh": "从到院到首次接诊的分钟数（CMS OP-20 口径）；当日就诊的中位数（实线）与第 90 百分位（点线），"
              "不含未就诊离院（LWBS），按就诊类型分列。",
    },
    "wait.units": {"en": "minutes; x = hospital-local day", "zh": "分钟；横轴 = 医院本地日期"},
    "wait.y": {"en": "Door-to-provider (minutes)", "zh": "到院至接诊（分钟）"},
    "wait.target": {"en": "Target: ED p90 ≤ {value:.0f} min (monthly)",
                    "zh": "目标：急诊 P90 ≤ {value:.0f} 分钟（按月）"},
    "wait.empty": {"en": "Every department-day is below the small-cell size: nothing to plot.",
                   "zh": "所有科室-日均低于最小单元格：无可绘制数据。"},
    "wait.suppressed": {"en": "{count} department-days with fewer than {min_cell} visits are suppressed (gaps).",
                        "zh": "{count} 个科室-日就诊少于 {min_cell} 人次，已不公布（图中留空）。"},
    # arrival heatmap
    "heat.title": {"en": "Door-to-provider by hour of arrival × weekday", "zh": "按到院时段 × 星期的到院至接诊时间"},
    "heat.definition": {
        "en": "Median minutes from arrival to first provider contact (LWBS excluded) by the hospital-local weekday "
              "and hour of arrival, over the whole period, for the department's busiest encounter class; hover for "
              "the 90th percentile and the number of visits. From marts.metrics_wait_by_arrival_hour.",
        "zh": "按医院本地星期与到院小时统计的到院至接诊中位分钟数（不含 LWBS），覆盖全期间，取该科室就诊量最大的"
              "就诊类型；悬停可见第 90 百分位与就诊人次。来源 marts.metrics_wait_by_arrival_hour。",
    },
    "heat.units": {"en": "minutes (median); hours in {timezone}", "zh": "分钟（中位数）；时间为 {timezone}"},
    "heat.x": {"en": "Hour of arrival (local)", "zh": "到院时刻（本地）"},
    "heat.y": {"en": "Weekday", "zh": "星期"},
    "heat.hover": {
        "en": "{label}<br>%{{y}} %{{x}}<br>median %{{z:.0f}} min, p90 %{{customdata[0]:.0f}} min"
              "<br>%{{customdata[1]:.0f}} visits with a wait<extra></extra>",
        "zh": "{label}<br>%{{y}} %{{x}}<br>中位数 %{{z:.0f}} 分钟，P90 %{{customdata[0]:.0f}} 分钟"
              "<br>有等候记录的就诊 %{{customdata[1]:.0f}} 人次<extra></extra>",
    },
    "heat.empty": {"en": "No weekday-hour of any department has enough visits to publish.",
                   "zh": "没有任何科室的星期-时段就诊量达到公布标准。"},
    "heat.note": {"en": "Weekday-hours with fewer than {min_cell} visits, or none, are left blank.",
                  "zh": "就诊少于 {min_cell} 人次或无就诊的星期-时段留空。"},
    "weekday.1": {"en": "Mon", "zh": "周一"}, "weekday.2": {"en": "Tue", "zh": "周二"},
    "weekday.3": {"en": "Wed", "zh": "周三"}, "weekday.4": {"en": "Thu", "zh": "周四"},
    "weekday.5": {"en": "Fri", "zh": "周五"}, "weekday.6": {"en": "Sat", "zh": "周六"},
    "weekday.7": {"en": "Sun", "zh": "周日"},
    # satisfaction trends
    "sat.title": {"en": "NPS and overall top-box, monthly", "zh": "净推荐值与总体高分率（按月）"},
    "sat.definition": {
        "en": "NPS = 100 × (promoters 9-10 − detractors 0-6) ÷ responses with a score (Bain); top-box = share of "
              "overall ratings 9-10 (CMS HCAHPS box score). Dashed lines: the targets.",
        "zh": "NPS = 100 ×（推荐者 9-10 分 − 贬损者 0-6 分）÷ 有评分的回复数（Bain 定义）；高分率 = 总体评价 9-10 分"
              "的占比（CMS HCAHPS 高分框）。虚线为目标。",
    },
    "sat.units": {"en": "NPS: score −100…100 (left); top-box: % (right); x = month of the visit",
                  "zh": "NPS：−100…100 分（左）；高分率：%（右）；横轴 = 就诊月份"},
    "sat.nps": {"en": "NPS", "zh": "净推荐值"},
    "sat.top_box": {"en": "Overall top-box %", "zh": "总体高分率 %"},
    "sat.nps_axis": {"en": "NPS (score)", "zh": "NPS（分）"},
    "sat.top_box_axis": {"en": "Top-box (%)", "zh": "高分率（%）"},
    "sat.empty": {"en": "Every department-month is below the small-cell size: nothing to plot.",
                  "zh": "所有科室-月均低于最小单元格：无可绘制数据。"},
    "sat.note": {"en": "Months with fewer than 100 completed surveys are flagged low-sample in the mart.",
                 "zh": "完成问卷少于 100 份的月份在数据集市中标记为小样本。"},
    # satisfaction vs wait
    "vsw.title": {"en": "What waiting costs: NPS by the wait the respondent experienced",
                  "zh": "等候的代价：按受访者实际等候时间分组的 NPS"},
    "vsw.definition": {
        "en": "Each month, a department's non-LWBS visits are split into quartiles of door-to-provider time (Q1 "
              "shortest … Q4 longest); NPS of the survey respondents whose visit fell in each quartile. Hover for "
              "the quartile's wait range. From marts.metrics_satisfaction_monthly (nps_wait_q1 … q4).",
        "zh": "每月将科室的非 LWBS 就诊按到院至接诊时间分为四个四分位组（Q1 最短 … Q4 最长），计算各组受访者的 NPS。"
              "悬停可见各组等候时间范围。来源 marts.metrics_satisfaction_monthly（nps_wait_q1 … q4）。",
    },
    "vsw.units": {"en": "NPS (score −100…100); x = month of the visit; bars = wait quartiles",
                  "zh": "NPS（−100…100 分）；横轴 = 就诊月份；柱 = 等候时间四分位组"},
    "vsw.x": {"en": "Month of the visit", "zh": "就诊月份"},
    "vsw.hover": {
        "en": "{label} · Q{quartile}<br>%{{x|{month}}}: wait %{{customdata[0]}}"
              "<br>NPS %{{y:.1f}} (%{{customdata[1]}} respondents)%{{customdata[2]}}<extra></extra>",
        "zh": "{label} · Q{quartile}<br>%{{x|{month}}}：等候 %{{customdata[0]}}"
              "<br>NPS %{{y:.1f}}（%{{customdata[1]}} 位受访者）%{{customdata[2]}}<extra></extra>",
    },
    "vsw.empty": {"en": "No department-month has a wait quartile with {min_cell}+ respondents.",
                  "zh": "没有任何科室-月的等候四分位组达到 {min_cell} 位受访者。"},
    "vsw.note": {"en": "Quartiles with fewer than {min_cell} respondents are suppressed in the mart and not plotted.",
                 "zh": "受访者少于 {min_cell} 位的四分位组在数据集市中不公布，不绘制。"},
    "vsw.range_suppressed": {"en": "range suppressed", "zh": "范围不公布"},
    "vsw.up_to": {"en": "≤ {high:.0f} min", "zh": "≤ {high:.0f} 分钟"},
    "vsw.over": {"en": "> {low:.0f} min", "zh": "> {low:.0f} 分钟"},
    "vsw.between": {"en": "{low:.0f}–{high:.0f} min", "zh": "{low:.0f}–{high:.0f} 分钟"},
    # cohort retention
    "cohort.title": {"en": "Cohort retention", "zh": "队列留存"},
    "cohort.definition": {
        "en": "Share of patients whose first visit in the data was in the cohort month who visit again in each "
              "later month (month 0 = a second visit within the first month).",
        "zh": "首诊在队列月份的患者中，在之后各月再次就诊的比例（第 0 月 = 首月内再次就诊）。",
    },
    "cohort.units": {"en": "% of the cohort's patients", "zh": "占队列患者的 %"},
    "cohort.x": {"en": "Months since first visit", "zh": "距首诊月数"},
    "cohort.y": {"en": "Cohort (first-visit month)", "zh": "队列（首诊月份）"},
    "cohort.tick": {"en": "+{months} mo", "zh": "+{months} 月"},
    "cohort.hover": {"en": "cohort %{y}, %{x}: %{z:.1f} %<extra></extra>",
                     "zh": "队列 %{y}，%{x}：%{z:.1f}%<extra></extra>"},
    "cohort.empty": {"en": "No cohort is large enough to publish.", "zh": "没有达到公布标准的队列。"},
    "cohort.note": {"en": "Cohorts under {min_cell} patients are blank; the latest month may be partial.",
                    "zh": "患者少于 {min_cell} 人的队列留空；最近一个月可能未满。"},
    # service levels
    "sla.title": {"en": "Follow-up and complaint service levels", "zh": "随访与投诉服务水平"},
    "sla.definition": {
        "en": "Follow-up day k = discharges with a completed contact inside window k ÷ eligible discharges (AHRQ "
              "RED); complaints = first answered within 24 h, and resolved within 7 working days, ÷ complaints whose "
              "window has closed. Dashed lines: the targets.",
        "zh": "第 k 天随访 = 在第 k 天窗口内完成联系的出院人次 ÷ 应随访出院人次（AHRQ RED）；投诉 = 24 小时内首次响应、"
              "7 个工作日内解决的投诉 ÷ 窗口已结束的投诉。虚线为目标。",
    },
    "sla.units": {"en": "% per month of discharge / receipt", "zh": "按出院 / 受理月份的 %"},
    "sla.empty_panels": {"en": "Nothing to plot yet (every cell suppressed or window still open): {panels}.",
                         "zh": "暂无可绘制数据（全部不公布或窗口未结束）：{panels}。"},
    "sla.empty": {"en": "Every department-month is below the small-cell size: nothing to plot.",
                  "zh": "所有科室-月均低于最小单元格：无可绘制数据。"},
    "sla.note": {"en": "Department-months under {min_cell} discharges / complaints are not plotted.",
                 "zh": "出院或投诉少于 {min_cell} 的科室-月不绘制。"},
    # campaign funnel
    "funnel.title": {"en": "Campaign funnel and new-patient attribution", "zh": "推广活动漏斗与新患者归因"},
    "funnel.definition": {
        "en": "Left: one population through every stage, the people the department's campaigns touched (a patient, "
              "or an anonymous CRM id linked to no patient; once per campaign): reached → engaged (any touch beyond "
              "an impression) → booked (a tracked booking) → attended (that appointment kept) → new patients (it "
              "was their first visit). Each stage is a subset of the one before; the percentage is the conversion "
              "from the previous stage. Right: new patients credited to each campaign under five attribution models "
              "(fractional credit over every touch on a new patient's path, a different population).",
        "zh": "左：同一人群贯穿各阶段——该科室推广活动触达的人（患者，或未关联到患者的匿名 CRM ID；每个活动计一次）："
              "触达 → 互动（曝光以外的任何接触）→ 预约（可追踪的预约）→ 到诊（该预约如约就诊）"
              "→ 新患者（为其首次就诊）。"
              "每一阶段都是上一阶段的子集；百分比为相对上一阶段的转化率。右：五种归因模型下各活动获得的新患者"
              "（按新患者路径上每次接触分配的小数份额，是另一人群）。",
    },
    "funnel.units": {"en": "funnel: people; attribution: new patients (fractional credit)",
                     "zh": "漏斗：人数；归因：新患者（小数份额）"},
    "funnel.left": {"en": "Funnel (people)", "zh": "漏斗（人数）"},
    "funnel.right": {"en": "New patients by attribution model", "zh": "各归因模型的新患者"},
    "funnel.people_reached": {"en": "Reached", "zh": "触达"},
    "funnel.people_engaged": {"en": "Engaged", "zh": "互动"},
    "funnel.people_booked": {"en": "Booked", "zh": "预约"},
    "funnel.people_attended": {"en": "Attended", "zh": "到诊"},
    "funnel.people_new_patients": {"en": "New patients", "zh": "新患者"},
    "funnel.hover": {"en": "%{y}: %{x:,} people<br>%{percentPrevious:.1%} of the previous stage<extra></extra>",
                     "zh": "%{y}：%{x:,} 人<br>为上一阶段的 %{percentPrevious:.1%}<extra></extra>"},
    "funnel.text": {"en": "%{label}: %{value:,}<br>%{percentPrevious:.0%} of the previous",
                    "zh": "%{label}：%{value:,}<br>为上一阶段的 %{percentPrevious:.0%}"},
    "funnel.new_patients_axis": {"en": "New patients", "zh": "新患者"},
    "funnel.bar_hover": {"en": "%{{x}}<br>{model}: %{{y:.1f}} new patients<extra></extra>",
                         "zh": "%{{x}}<br>{model}：%{{y:.1f}} 位新患者<extra></extra>"},
    "funnel.note": {
        "en": "Attribution of campaigns with fewer than {min_cell} credited patients is suppressed (not plotted). "
              "Whole hospital = every campaign and organic touches; a department = the campaigns it owns. Campaign "
              "labels are the department and campaign type; the CRM's own name is in the hover.",
        "zh": "获归因患者少于 {min_cell} 人的活动不公布（不绘制）。全院 = 所有活动及自然流量；科室 = 该科室的活动。"
              "活动标签为科室与活动类型，CRM 中的原始名称见悬停提示。",
    },
    "funnel.missing": {"en": "marts.metrics_campaign has none of the funnel columns",
                       "zh": "marts.metrics_campaign 缺少漏斗字段"},
    "attribution.new_patients_first_touch": {"en": "First touch", "zh": "首次接触"},
    "attribution.new_patients_last_touch": {"en": "Last touch", "zh": "末次接触"},
    "attribution.new_patients_linear": {"en": "Linear", "zh": "线性"},
    "attribution.new_patients_position_based": {"en": "Position-based 40/20/40", "zh": "位置加权 40/20/40"},
    "attribution.new_patients_time_decay": {"en": "Time decay", "zh": "时间衰减"},
    # driver analysis (charts.driver_analysis: the keys its chart can call through ctx.t)
    "drivers.title": {"en": "Driver analysis: what moves NPS and overall top-box",
                      "zh": "驱动因素分析：什么影响 NPS 与总体高分率"},
    "drivers.definition": {
        "en": "Per department × quarter, from marts.fct_survey_driver_inputs. NPS score: OLS on z-scored drivers "
              "with HC3 heteroskedasticity-robust 95 % CIs (SD change in the score per 1-SD change in the driver, "
              "others held constant). Overall top-box (rating 9-10): logistic regression, odds ratio per 1-SD "
              "change with 95 % Wald CIs. Items coded never=1 … always=4. Associations, not causes.",
        "zh": "按科室 × 季度，数据来自 marts.fct_survey_driver_inputs。NPS 评分：对标准化驱动因素做 OLS 回归，"
              "95 % 置信区间采用 HC3 异方差稳健标准误（驱动因素每变化 1 个标准差、其他不变时评分变化的标准差数）。"
              "总体高分（评分 9-10）：逻辑回归，每 1 个标准差的比值比及 95 % Wald 置信区间。条目编码：从不=1 … 总是=4。"
              "为相关关系，非因果。",
    },
    "drivers.units": {
        "en": "left: standardised coefficient (SD per SD); right: odds ratio per SD (log scale); bars = 95 % CI; "
              "pick the department · quarter in the menu",
        "zh": "左：标准化系数（标准差/标准差）；右：每标准差比值比（对数刻度）；误差线 = 95 % 置信区间；"
              "在菜单中选择科室 · 季度",
    },
    "drivers.ols_hc3": {"en": "NPS score: OLS, HC3 robust errors", "zh": "NPS 评分：OLS，HC3 稳健标准误"},
    "drivers.logit": {"en": "Overall top-box: logistic regression", "zh": "总体高分：逻辑回归"},
    "drivers.ols_hc3_axis": {"en": "SD of NPS score per SD of driver", "zh": "驱动因素每标准差对应的 NPS 评分标准差"},
    "drivers.logit_axis": {"en": "odds ratio of top-box per SD of driver", "zh": "驱动因素每标准差对应的高分比值比"},
    "drivers.ols_hc3_fit": {"en": "n = {n}, R² = {fit:.2f}", "zh": "n = {n}，R² = {fit:.2f}"},
    "drivers.logit_fit": {"en": "n = {n}, pseudo R² = {fit:.2f}", "zh": "n = {n}，伪 R² = {fit:.2f}"},
    "drivers.no_fit": {"en": "No department × quarter has enough complete survey responses to fit the models.",
                       "zh": "没有任何科室 × 季度有足够的完整问卷来拟合模型。"},
    "drivers.fitted_where": {
        "en": "Fitted where a department × quarter has at least max({min_cell}, 10 × drivers) complete responses; "
              "a logistic fit that does not converge or separates the outcome perfectly is not shown.",
        "zh": "仅在科室 × 季度的完整问卷不少于 max({min_cell}, 10 × 驱动因素数) 份时拟合；"
              "未收敛或完全分离的逻辑回归不显示。",
    },
    "drivers.nurse_communication_score": {"en": "Nurse communication", "zh": "护士沟通"},
    "drivers.doctor_communication_score": {"en": "Doctor communication", "zh": "医生沟通"},
    "drivers.responsiveness_score": {"en": "Responsiveness", "zh": "响应及时性"},
    "drivers.cleanliness_score": {"en": "Cleanliness", "zh": "清洁"},
    "drivers.quietness_score": {"en": "Quietness", "zh": "安静"},
    "drivers.discharge_information_score": {"en": "Discharge information", "zh": "出院指导"},
    "drivers.door_to_provider_min": {"en": "Door-to-provider (min)", "zh": "到院至接诊（分钟）"},
    "drivers.length_of_stay_hours": {"en": "Length of stay (h)", "zh": "停留时长（小时）"},
    "drivers.booking_lead_time_days": {"en": "Booking lead time (days)", "zh": "预约提前天数"},
    "drivers.prior_no_shows": {"en": "Prior no-shows", "zh": "既往爽约次数"},
    "campaign.organic": {"en": "Organic (no campaign)", "zh": "自然流量（无活动）"},
    "campaign.hospital_wide": {"en": "Whole hospital", "zh": "全院"},
    "campaign_type.screening_day": {"en": "Screening day", "zh": "免费筛查日"},
    "campaign_type.health_lecture": {"en": "Health lecture", "zh": "健康讲座"},
    "campaign_type.livestream": {"en": "Livestream", "zh": "专家直播"},
    "campaign_type.community_clinic": {"en": "Community clinic", "zh": "社区义诊"},
    "campaign_type.search_ads": {"en": "Search ads", "zh": "搜索推广"},
    "campaign_type.social_post": {"en": "Social post", "zh": "公众号推文"},
    "campaign_type.unknown": {"en": "Campaign", "zh": "推广活动"},
}
