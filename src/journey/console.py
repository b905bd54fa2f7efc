"""What the CLI prints when a command ends: a closing summary (what was done, how long it took, where
to look) and, on failure, what went wrong, where, and what to do next.

Pure formatting over the reports the library already returns (the run summary, the generation
report, …): nothing is recomputed here, and nothing here prints patient data — only counts, dates,
run ids and paths.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from journey.config import Settings
from journey.errors import JourneyError
from journey.report.docs_site import dbt_docs_page

if TYPE_CHECKING:  # the reports summarised here; imported for types only (they pull in heavy libraries)
    from journey.privacy.retention import RetentionReport
    from journey.report.build import ReportResult
    from journey.report.docs_site import DocsResult
    from journey.runs import RunSummary
    from journey_demo import GenerationReport


def duration(seconds: float) -> str:
    """``0.4s``, ``12s``, ``3m 05s``, ``1h 02m``: short enough for a summary line."""
    if seconds < 10:
        return f"{seconds:.1f}s"
    whole = round(seconds)
    if whole < 60:
        return f"{whole}s"
    minutes, secs = divmod(whole, 60)
    if minutes < 60:
        return f"{minutes}m {secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m"


def span(days: Sequence[str]) -> str:
    """``2026-01-05`` or ``2026-01-05 … 2026-01-31`` (days sorted ascending)."""
    if not days:
        return "no drop days"
    return days[0] if days[0] == days[-1] else f"{days[0]} … {days[-1]}"


@dataclass
class Summary:
    """A title line and labelled detail lines, rendered as aligned plain text (stdout, greppable)."""

    title: str
    rows: list[tuple[str, str]] = field(default_factory=list)

    def add(self, label: str, value: str) -> Summary:
        self.rows.append((label, value))
        return self

    def render(self) -> str:
        width = max((len(label) for label, _ in self.rows), default=0) + 1
        return "\n".join([self.title, *(f"  {label + ':':<{width}} {value}" for label, value in self.rows)])


# ---------------------------------------------------------------------------------------------------
# where to look
# ---------------------------------------------------------------------------------------------------
def _where_to_look(summary: Summary, settings: Settings, *, quarantined: int) -> Summary:
    summary.add("warehouse", str(settings.warehouse_path))
    if quarantined:
        summary.add("quarantine", f"{quarantined:,} row(s) in quarantine.rows: `journey quarantine list`")
    dashboard = settings.site_dir / "report" / "index.html"
    if dashboard.is_file():
        summary.add("dashboard", str(dashboard))
    landing = settings.site_dir / "index.html"
    docs = landing if landing.is_file() else dbt_docs_page(settings.site_dir)  # both open from disk
    if docs is not None:
        summary.add("docs", str(docs))
    return summary.add("logs", f"{settings.log_dir / 'journey.log'} (runs: {settings.log_dir / 'runs.jsonl'})")


def _rows(read: int, loaded: int, quarantined: int) -> str:
    return f"{read:,} read, {loaded:,} loaded, {quarantined:,} quarantined"


def _checks(passed: int, failed: int, warned: int, status: str) -> str:
    if not failed or status not in ("succeeded", "degraded"):
        return f"{passed:,} passed, {failed:,} failed"
    # A published run's failed checks blocked nothing: warnings, and row-level rules whose rows were
    # quarantined (the run counts them among the failed, as ops.runs does).
    parts = [f"{warned:,} warning(s)"] if warned else []
    if failed > warned:
        parts.append(f"{failed - warned:,} row rule(s) that quarantined rows")
    return f"{passed:,} passed, {', '.join(parts)}, none blocking (see ops.dq_results)"


# ---------------------------------------------------------------------------------------------------
# runs
# ---------------------------------------------------------------------------------------------------
#: Entries not loaded named one by one in a run summary (``journey quarantine list`` names all).
NAMED_NOT_LOADED = 10


def not_loaded(entries: Sequence[Mapping[str, Any]]) -> str:
    """The run summary's ``not loaded`` value: how many entries, then each path with its reason."""
    named = "; ".join(f"{entry['path']} ({entry['reason']})" for entry in entries[:NAMED_NOT_LOADED])
    more = f"; … {len(entries) - NAMED_NOT_LOADED} more" if len(entries) > NAMED_NOT_LOADED else ""
    noun = "entry" if len(entries) == 1 else "entries"
    return f"{len(entries):,} landed {noun}: {named}{more} (`journey quarantine list`)"


def run_summary(result: Mapping[str, Any], seconds: float, settings: Settings) -> Summary:
    """The closing summary of one nightly run, from the flow's own result (``flows.nightly._result``)."""
    status = str(result["status"])
    days = [str(day) for day in result["days"]]
    title = f"run {result['run_id']} {status} in {duration(seconds)}"
    refused: Sequence[Mapping[str, Any]] = result.get("files_not_loaded") or []
    if status == "skipped":
        summary = Summary(title + ": nothing new or changed landed; the published warehouse is up to date")
        if refused:
            summary.add("not loaded", not_loaded(refused))
        return _where_to_look(summary, settings, quarantined=0)
    summary = Summary(f"{title} (drop days {span(days)})" if days else f"{title} (no new files: marts rebuilt)")
    summary.add("files", f"{int(result['files']):,}")
    if refused:
        summary.add("not loaded", not_loaded(refused))
    summary.add("rows", _rows(int(result["rows_read"]), int(result["rows_loaded"]), int(result["rows_quarantined"])))
    summary.add("checks", _checks(int(result["checks_passed"]), int(result["checks_failed"]),
                                  int(result.get("checks_warned", 0)), status))
    stages: Mapping[str, float] = result["stage_seconds"]
    summary.add("stages", ", ".join(f"{name} {duration(value)}" for name, value in stages.items()))
    if status == "degraded":
        summary.add("health", f"published but degraded (exit code 4): {result.get('reason') or ''}")
    return _where_to_look(summary, settings, quarantined=int(result["rows_quarantined"]))


def last_run_note(runs: Sequence[Mapping[str, Any]]) -> str | None:
    """A line on the last recorded run when it was not green (``journey quarantine list``), else None."""
    if not runs:
        return None
    last = runs[-1]
    status, reason = str(last["status"]), str(last.get("reason") or "").strip()
    if status in ("failed", "interrupted"):
        return (f"last run {last['run_id']} {status} at stage {last.get('stage') or '?'}: nothing of it is published, "
                f"so the rows it refused are not listed here (`journey quarantine list --run {last['run_id']}` lists "
                f"them). Reason: {reason}")
    if status == "degraded":
        return f"last run {last['run_id']} was published degraded: {reason}"
    return None


def run_line(result: Mapping[str, Any]) -> str:
    """One line per run of a backfill: its own time (its stages), not the time since the backfill began."""
    stages: Mapping[str, float] = result["stage_seconds"]
    line = (
        f"run {result['run_id']} {result['status']} in {duration(sum(stages.values()))}: "
        f"{span([str(day) for day in result['days']])}, {int(result['files']):,} files, "
        f"{int(result['rows_loaded']):,} rows loaded, {int(result['rows_quarantined']):,} quarantined"
    )
    return line + (f" — {result.get('reason') or ''}" if result["status"] == "degraded" else "")


def backfill_summary(results: Sequence[Mapping[str, Any]], seconds: float, settings: Settings) -> Summary:
    """Totals over a backfill's runs (each run's own line comes from ``run_line``)."""
    if not results:
        return Summary(f"nothing to backfill: every landed day is already published ({duration(seconds)})")
    days = sorted(str(day) for result in results for day in result["days"])
    quarantined = sum(int(result["rows_quarantined"]) for result in results)
    summary = Summary(
        f"backfill: {len(results)} run(s) published in {duration(seconds)} "
        f"({len(days)} drop day(s), {span(days)})"
    )
    summary.add("files", f"{sum(int(result['files']) for result in results):,}")
    summary.add("rows", _rows(sum(int(result["rows_read"]) for result in results),
                              sum(int(result["rows_loaded"]) for result in results), quarantined))
    statuses = {str(result["status"]) for result in results}
    degraded = sum(1 for result in results if result["status"] == "degraded")
    if degraded:
        summary.add("health", f"{degraded} run(s) published but degraded (exit code 4; see the run lines above)")
    summary.add("checks", _checks(sum(int(result["checks_passed"]) for result in results),
                                  sum(int(result["checks_failed"]) for result in results),
                                  sum(int(result.get("checks_warned", 0)) for result in results),
                                  statuses.pop() if len(statuses) == 1 else "mixed"))
    return _where_to_look(summary, settings, quarantined=quarantined)


# ---------------------------------------------------------------------------------------------------
# the other commands
# ---------------------------------------------------------------------------------------------------
def generation_summary(report: GenerationReport, first_day: str, last_day: str, settings: Settings) -> Summary:
    """What the generator wrote (its report counts rows by ``<source>/<entity>``)."""
    by_source: dict[str, int] = {}
    for key, count in report.rows.items():
        source = key.split("/", 1)[0]
        by_source[source] = by_source.get(source, 0) + count
    total = sum(by_source.values())
    rate = f", {total / report.seconds:,.0f} rows/s" if report.seconds > 0 else ""
    summary = Summary(f"generated {report.days} day(s) ({span([first_day, last_day])}) in "
                      f"{duration(report.seconds)}{rate}")
    summary.add("files", f"{report.files:,}")
    summary.add("rows", f"{total:,} (" + ", ".join(f"{s} {n:,}" for s, n in sorted(by_source.items())) + ")")
    if report.defects:
        defects = ", ".join(f"{kind}={count}" for kind, count in sorted(report.defects.items()))
        summary.add("defects", f"{defects} (each with file and row: {settings.generator_dir / 'defects.jsonl'})")
    summary.add("landing", str(settings.landing_dir))
    summary.add("record", f"{settings.generator_dir} (generation.json, identities.parquet for `journey privacy-scan`)")
    return summary.add("next", "`journey backfill` loads every landed day")


def report_summary(result: ReportResult, seconds: float) -> Summary:
    summary = Summary(f"dashboard built in {duration(seconds)}: {len(result.charts)} charts, "
                      f"{len(result.tables)} tables")
    summary.add("dashboard", f"{result.path} ({result.size_bytes / 1e6:.1f} MB, {len(result.charts)} charts)")
    for key, reason in result.unavailable.items():
        summary.add("missing", f"{key}: {reason}")
    return summary


def worklist_summary(path: Path, sources: Mapping[str, int], about: str, seconds: float) -> Summary:
    total = sum(sources.values())
    summary = Summary(f"worklist for {about} written in {duration(seconds)}: {total:,} row(s)")
    summary.add("rows", f"{sources.get('survey', 0):,} survey responses, {sources.get('complaint', 0):,} complaints")
    return summary.add("csv", str(path))


def docs_summary(result: DocsResult, seconds: float) -> Summary:
    summary = Summary(f"docs built in {duration(seconds)}")
    summary.add("sites", str(result.index))
    summary.add("dbt docs", str(result.dbt or "not built (`journey docs` without --skip-dbt builds it)"))
    for stage, path in result.quality.items():
        summary.add(f"quality {stage}", str(path))
    if not result.quality:
        summary.add("quality", "no GX Data Docs yet (the next `journey run` writes them)")
    if result.report is not None:
        summary.add("dashboard", str(result.report))
    return summary


def retention_summary(result: RetentionReport, seconds: float, settings: Settings) -> Summary:
    summary = Summary(f"{result.summary()} ({duration(seconds)})")
    summary.add("landing", str(settings.landing_dir))
    return summary.add("logs", f"{settings.log_dir / 'journey.log'} (one record per file)")


# ---------------------------------------------------------------------------------------------------
# errors
# ---------------------------------------------------------------------------------------------------
def error_text(error: JourneyError, log_file: Path | None = None) -> str:
    """``error: <what and where>`` then where (if the error carries a location the message lacks),
    what to do next, and the log to read."""
    message = str(error).strip() or type(error).__name__
    lines = [f"error: {message}"]
    located = [f"{name} {value}" for name in ("file", "rule")
               if (value := getattr(error, name, None)) and str(value) not in message]
    if located:
        lines.append(f"  where: {', '.join(located)}")
    if error.hint and error.hint not in message:
        lines.append(f"  next:  {error.hint}")
    if log_file is not None and log_file.is_file():
        lines.append(f"  log:   {log_file}")
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------------
# the run's markdown summary (logs/runs/<id>/summary.md and the Prefect artifact)
# ---------------------------------------------------------------------------------------------------
def run_markdown(summary: RunSummary, settings: Settings) -> str:
    """A run's summary as markdown: what it read, loaded, refused and checked, its stages, and where
    to look. For a run that did not publish, the counts come from its evidence (journey.ops.evidence)."""
    from journey.ops import evidence

    published = summary.status in ("succeeded", "degraded")
    quarantined, loaded = summary.rows_quarantined, summary.rows_loaded
    checks = _checks(summary.checks_passed, summary.checks_failed, summary.checks_warned, summary.status)
    if not published and summary.status != "skipped":
        _, refused = evidence.quarantined_rows(settings, summary.run_id, limit=0)
        loaded -= max(refused - quarantined, 0)  # rows a gate refused after loading (the flow does the same)
        quarantined = max(refused, quarantined)
        counts = evidence.check_counts(settings, summary.run_id)
        checks = (f"{counts[0]:,} passed, {counts[1]:,} failed ({counts[2]:,} warnings) before the run stopped"
                  if counts else "none recorded")
    days = span([day.isoformat() for day in (summary.first_day, summary.last_day) if day is not None])
    lines = [f"# journey run `{summary.run_id}`: {summary.status}", "",
             "| | |", "|---|---|",
             f"| run date | {summary.run_date.isoformat()} |",
             f"| drop days | {days} |",
             f"| files | {summary.files:,} |",
             f"| rows | {_rows(summary.rows_read, loaded, quarantined)} |",
             f"| checks | {checks} |"]
    if summary.stage and not published:
        lines.append(f"| stopped at | {summary.stage} |")
    if summary.reason:
        lines.append(f"| reason | {_cell(summary.reason)} |")
    if summary.files_not_loaded:
        lines.append(f"| not loaded | {_cell(not_loaded(summary.files_not_loaded))} |")
    lines += ["", "## Stages", "", "| stage | time |", "|---|---|"]
    lines += [f"| {name} | {duration(seconds)} |" for name, seconds in summary.stage_seconds.items()]
    lines += ["", "## Where to look", "",
              f"- warehouse: `{settings.warehouse_path}`" + ("" if published else " (unchanged by this run)"),
              f"- refused rows: `journey quarantine list --run {summary.run_id}` ({quarantined:,} row(s))",
              f"- failed and warned checks: the `journey-run-checks` table artifact, "
              f"`{evidence.run_dir(settings, summary.run_id) / 'checks.parquet'}`",
              f"- log: `{settings.log_dir / 'journey.log'}` (lines with run_id={summary.run_id}), "
              f"runs: `{settings.log_dir / 'runs.jsonl'}`"]
    dashboard = settings.site_dir / "report" / "index.html"
    if published and dashboard.is_file():
        lines.append(f"- dashboard: `{dashboard}`")
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    """Text for one markdown table cell: one line, pipes escaped."""
    return " ".join(text.split()).replace("|", "\\|")
