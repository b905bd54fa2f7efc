"""Run health: is the night as a whole trustworthy, beyond each check passing on its own?

Six rules, read after the marts are built and checked (thresholds in ``Settings.thresholds``):

* ``files_not_loaded`` — discovery refused an entry under the landing root tonight (an unsupported
  compression, unknown format, wrong or unknown folder, bad drop-folder name, unreadable file,
  symlink, file still being written: ``raw.files_not_loaded`` of this run): the run ends
  **degraded**, naming each (journey.ingest.landing.REASONS).
* ``file_refused`` — a file of tonight's load was refused whole (``rejected``: it cannot be read or
  parsed; ``deferred``: it changed while it was read, vanished or is not readable, and is read again
  next run): every other file loaded and is published, the run ends **degraded**, naming the file,
  its rule and reason.

* ``entity_rows_lost`` — of an entity's rows landed tonight, the share refused by ANY stage's rules
  (the loader's structural rules and the staging gate's row rules, from ``quarantine.rows``):
  above ``max_entity_loss_share`` the run **fails**; above ``degraded_entity_loss_share`` it ends
  **degraded**. Only entities with at least ``min_rows_for_share`` rows tonight are judged.
* ``mart_empty`` — a mart is empty although its source entity delivered rows (in raw or refused
  into quarantine): the run **fails** (``MART_SOURCES``).
* ``codes_unmapped`` — of tonight's encounters (``min_rows_for_share`` or more), the share whose
  class code is neither HL7 v3 nor in the site's code map exceeds ``max_unmapped_code_share``: the
  run ends **degraded** (kept with ``encounter_class`` NULL, so per-class metrics miss them).
* ``coverage_drop`` — the share of units with evidence for a core metric (``COVERAGE``: the
  ``*_coverage_rate`` columns, weighted by their units) over the latest ``coverage_window_days``
  metric dates falls more than ``coverage_max_drop`` below the median of the last
  ``coverage_trailing_runs`` published nights (at least ``coverage_min_history`` of them): the run
  ends **degraded** (published — what has evidence is still right — and alerted). Each night's
  value is kept in ``ops.coverage_history``. A declared column the table lacks is not checked.

Every finding names stage, entity and rule. The checks read and report; they move no rows.
"""

from __future__ import annotations

import logging
import statistics
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Literal

import duckdb

from journey.config import Settings
from journey.errors import ValidationFailed
from journey.ingest.entities import ENTITIES
from journey.ops.clock import stamp_after
from journey.privacy.identifiers import quote_identifier
from journey.warehouse.connection import connect_writer

log = logging.getLogger(__name__)

Outcome = Literal["fail", "degraded"]

#: The loader's structural rules (journey.ingest.loader); every other quarantine rule is the staging gate's.
LOAD_RULES = frozenset({"malformed_json", "not_a_json_object", "missing_resource_type", "malformed_csv_row",
                        "unreadable_file", "line_too_long", "too_deeply_nested", "nested_value",
                        # file-level refusals (row 0 of a rejected file)
                        "unknown_encoding", "corrupt_gzip", "no_header", "duplicate_column", "missing_column",
                        "unterminated_quote", "not_readable", "vanished", "symlink_loop", "out_of_memory",
                        "unparseable_file"})


def refusing_stage(rule: str) -> str:
    """``load`` for the loader's structural rules, ``staging`` for the staging gate's row rules."""
    return "load" if rule in LOAD_RULES or rule.startswith("required:") else "staging"


@dataclass(frozen=True)
class MartSource:
    """A mart that must hold rows once any of its source entities delivered some."""

    mart: str
    entities: tuple[str, ...]


MART_SOURCES: tuple[MartSource, ...] = (
    MartSource("fct_encounters", ("Encounter",)),
    MartSource("metrics_wait_daily", ("Encounter", "Appointment")),
    MartSource("fct_appointments", ("Appointment",)),
    MartSource("fct_reviews", ("reviews",)),
    MartSource("fct_complaints", ("complaints",)),
)


@dataclass(frozen=True)
class Coverage:
    """A core metric's coverage column: ``column`` (a rate in [0, 1]) weighted by ``weight`` units."""

    table: str
    column: str
    weight: str
    date_column: str
    entity: str

    @property
    def measure(self) -> str:
        return f"{self.table}.{self.column}"


#: Extend at merge as metric tables gain coverage columns (stream B of issue #20).
COVERAGE: tuple[Coverage, ...] = tuple(
    Coverage("metrics_wait_daily", f"{metric}_coverage_rate", "encounters", "metric_date", "Encounter")
    for metric in ("door_to_triage", "door_to_provider", "los", "lwbs", "ed_timeliness")
)

_DDL = """
create schema if not exists ops;
create table if not exists ops.coverage_history (
    run_id varchar not null, measure varchar not null, value double not null, units double not null,
    through_date date, recorded_at timestamp not null
);
"""


@dataclass(frozen=True)
class Finding:
    rule: str
    outcome: Outcome
    stage: str
    entity: str
    detail: str

    @property
    def reason(self) -> str:
        return f"{self.stage}/{self.entity}: {self.detail} [rule: {self.rule}]"


@dataclass
class HealthReport:
    findings: list[Finding] = field(default_factory=list)
    coverage: dict[str, float] = field(default_factory=dict)

    @property
    def status(self) -> str:
        """``failed``, ``degraded`` or ``succeeded``: the run's status as these rules see it."""
        outcomes = {finding.outcome for finding in self.findings}
        return "failed" if "fail" in outcomes else "degraded" if outcomes else "succeeded"

    @property
    def reason(self) -> str | None:
        return "; ".join(finding.reason for finding in self.findings) or None


def _tables(conn: duckdb.DuckDBPyConnection, schema: str) -> dict[str, set[str]]:
    rows = conn.execute(
        "select table_name, column_name from information_schema.columns where table_schema = ?", [schema]
    ).fetchall()
    tables: dict[str, set[str]] = {}
    for table, column in rows:
        tables.setdefault(table, set()).add(column)
    return tables


def _count(conn: duckdb.DuckDBPyConnection, sql: str, params: list[object] | None = None) -> int:
    row = conn.execute(sql, params or []).fetchone()
    return int(row[0]) if row and row[0] is not None else 0


#: Refused entries named one by one in the finding (the rest are counted; all are in
#: ``journey quarantine list``).
_NAMED_ENTRIES = 10


def files_not_loaded(conn: duckdb.DuckDBPyConnection, run_id: str) -> list[Finding]:
    """``files_not_loaded``: the entries this run's discovery refused (``raw.files_not_loaded``)."""
    if "files_not_loaded" not in _tables(conn, "raw"):
        return []
    rows = conn.execute("select path, reason from raw.files_not_loaded where run_id = ? order by path",
                        [run_id]).fetchall()
    if not rows:
        return []
    named = ", ".join(f"{path} ({reason})" for path, reason in rows[:_NAMED_ENTRIES])
    more = f" and {len(rows) - _NAMED_ENTRIES} more" if len(rows) > _NAMED_ENTRIES else ""
    noun = "entry was" if len(rows) == 1 else "entries were"
    return [Finding(
        "files_not_loaded", "degraded", "discover", "landing",
        f"{len(rows)} landed {noun} not loaded: {named}{more}; `journey quarantine list` names each with its reason",
    )]
def refused_files(conn: duckdb.DuckDBPyConnection, batches: list[str]) -> list[Finding]:
    """``file_refused``: tonight's files the loader refused whole (one finding per file)."""
    rows = conn.execute(
        """select manifest.path, manifest.status, manifest.reason, manifest.source,
                  (select any_value(rule) from quarantine.rows as q
                   where q.batch_id = manifest.batch_id and q._row_number = 0) as rule
           from raw.load_manifest as manifest
           where batch_id in (select unnest(?::varchar[])) and status in ('rejected', 'deferred')
           order by path""",
        [list(batches)],
    ).fetchall()
    verb = {"rejected": "refused, the other files loaded", "deferred": "deferred to the next run"}
    return [Finding("file_refused", "degraded", "load", str(source),
                    f"{path}: {verb[status]} ({reason}; quarantine rule {rule or 'unreadable_file'})")
            for path, status, reason, source, rule in rows]


def entity_losses(conn: duckdb.DuckDBPyConnection, settings: Settings, batches: list[str]) -> list[Finding]:
    """``entity_rows_lost`` over this run's batches."""
    limits = settings.thresholds
    conn.execute("create or replace temp table _health_batches as select unnest(?::varchar[]) as batch_id",
                 [list(batches)])
    lost: dict[str, list[tuple[str, str, int]]] = {}
    for entity, rule, n in conn.execute(
        """select entity, rule, count(*) from quarantine.rows
           where batch_id in (select batch_id from _health_batches) and replayed_at is null and entity is not null
             and _row_number > 0  -- a file refused whole is file_refused's
           group by all order by 3 desc, 2"""
    ).fetchall():
        lost.setdefault(entity, []).append((refusing_stage(str(rule)), rule, int(n)))
    raw = _tables(conn, "raw")
    findings = []
    for name, refusals in lost.items():
        entity = ENTITIES.get(name)
        kept = 0
        if entity is not None and entity.table in raw:  # table names from the registry, never from input
            kept = _count(conn, f"select count(*) from raw.{quote_identifier(entity.table)} "
                                "where _batch_id in (select batch_id from _health_batches)")
        refused = sum(n for _, _, n in refusals)
        total = kept + refused
        share = refused / total if total else 0.0
        if total < max(limits.min_rows_for_share, 1) or share <= limits.degraded_entity_loss_share:
            continue
        outcome: Outcome = "fail" if share > limits.max_entity_loss_share else "degraded"
        allowed = limits.max_entity_loss_share if outcome == "fail" else limits.degraded_entity_loss_share
        by_rule = ", ".join(f"{stage} rule {rule}: {n}" for stage, rule, n in refusals)
        findings.append(Finding(
            "entity_rows_lost", outcome, refusals[0][0], name,
            f"{refused} of {total} rows landed tonight ({share:.0%}) were refused, more than the {allowed:.0%} "
            f"allowed ({by_rule})",
        ))
    return findings


@dataclass(frozen=True)
class UnmappedCodes:
    """Rows of a staging model whose ``reason_column`` says a source code was not mapped."""

    table: str
    entity: str
    reason_column: str
    reason: str
    code_column: str
    field: str


UNMAPPED: tuple[UnmappedCodes, ...] = (
    UnmappedCodes("stg_ehr__encounters", "Encounter", "encounter_class_null_reason", "class_unmapped",
                  "encounter_class_source_code", "Encounter.class"),
)


def unmapped_codes(conn: duckdb.DuckDBPyConnection, settings: Settings, batches: list[str]) -> list[Finding]:
    """``codes_unmapped`` over this run's batches (``_health_batches``, see entity_losses)."""
    limits = settings.thresholds
    staging = _tables(conn, "staging")
    findings = []
    for item in UNMAPPED:
        if not {item.reason_column, item.code_column, "_batch_id"} <= staging.get(item.table, set()):
            continue
        table = f"staging.{quote_identifier(item.table)}"
        reason, code = quote_identifier(item.reason_column), quote_identifier(item.code_column)
        # one scan: tonight's rows per (unmapped?, code)
        groups = conn.execute(
            f"""select {reason} is not distinct from ? as unmapped, {code}, count(*) from {table}
                where _batch_id in (select batch_id from _health_batches) group by all order by 3 desc, 2""",
            [item.reason]).fetchall()
        total = sum(int(n) for _, _, n in groups)
        unmapped = sum(int(n) for flagged, _, n in groups if flagged)
        if total < max(limits.min_rows_for_share, 1) or unmapped / total <= limits.max_unmapped_code_share:
            continue
        listed = ", ".join([f"{value!r}: {n}" for flagged, value, n in groups if flagged][:5])
        findings.append(Finding(
            "codes_unmapped", "degraded", "staging", item.entity,
            f"{unmapped} of {total} rows landed tonight ({unmapped / total:.0%}) have {item.field} codes neither "
            f"standard nor in mapping/code_map.csv, more than the {limits.max_unmapped_code_share:.0%} allowed "
            f"({listed}); add them to the code map",
        ))
    return findings


def empty_marts(conn: duckdb.DuckDBPyConnection, settings: Settings) -> list[Finding]:
    """``mart_empty``: a mart without rows although one of its source entities delivered rows."""
    raw, marts = _tables(conn, "raw"), _tables(conn, "marts")
    findings = []
    for pair in MART_SOURCES:
        delivered: dict[str, int] = {}
        for name in pair.entities:
            table = ENTITIES[name].table
            rows = _count(conn, f"select count(*) from raw.{quote_identifier(table)}") if table in raw else 0
            rows += _count(conn, "select count(*) from quarantine.rows where entity = ? and replayed_at is null "
                                 "and _row_number > 0", [name])  # a file refused whole delivered no rows
            if rows:
                delivered[name] = rows
        if not delivered:
            continue
        if pair.mart in marts and _count(conn, f"select count(*) from marts.{quote_identifier(pair.mart)}"):
            continue
        sources = ", ".join(f"{n:,} {name}" for name, n in delivered.items())
        findings.append(Finding(
            "mart_empty", "fail", "marts", next(iter(delivered)),
            f"marts.{pair.mart} is empty although the source delivered {sources} row(s) (in raw or quarantine)",
        ))
    return findings


def coverage_drops(
    conn: duckdb.DuckDBPyConnection, settings: Settings, run_id: str, now: datetime,
    measures: tuple[Coverage, ...] = COVERAGE,
) -> tuple[list[Finding], dict[str, float]]:
    """``coverage_drop`` for each declared measure the marts hold; tonight's values are recorded."""
    limits = settings.thresholds
    marts = _tables(conn, "marts")
    findings: list[Finding] = []
    tonight: dict[str, float] = {}
    for item in measures:
        columns = marts.get(item.table, set())
        if not {item.column, item.weight, item.date_column} <= columns:
            log.debug("coverage %s not checked: column(s) missing", item.measure)
            continue
        table = f"marts.{quote_identifier(item.table)}"
        rate, weight, day = (quote_identifier(c) for c in (item.column, item.weight, item.date_column))
        row = conn.execute(
            f"""with latest as (select max({day}) as through_date from {table})
                select sum({rate} * {weight}) / nullif(sum({weight}), 0), sum({weight}), max(latest.through_date)
                from {table}, latest
                where {rate} is not null and {weight} > 0
                  and {day} > latest.through_date - ?::integer""",
            [limits.coverage_window_days],
        ).fetchone()
        if row is None or row[0] is None:
            continue
        value, units, through = float(row[0]), float(row[1]), row[2]
        tonight[item.measure] = value
        history = [float(r[0]) for r in conn.execute(
            "select value from ops.coverage_history where measure = ? order by recorded_at desc limit ?",
            [item.measure, limits.coverage_trailing_runs],
        ).fetchall()]
        conn.execute("insert into ops.coverage_history values (?, ?, ?, ?, ?, ?)",
                     [run_id, item.measure, value, units, through if isinstance(through, date) else None, now])
        if len(history) < limits.coverage_min_history:
            continue
        baseline = statistics.median(history)
        if value < baseline - limits.coverage_max_drop:
            findings.append(Finding(
                "coverage_drop", "degraded", "marts", item.entity,
                f"{item.measure} is {value:.1%} over the {limits.coverage_window_days} days through {through}, "
                f"down from a median {baseline:.1%} over the last {len(history)} nights (more than "
                f"{limits.coverage_max_drop:.0%} points)",
            ))
    return findings, tonight


def check_run_health(
    settings: Settings, work: Path, batches: list[str], run_id: str, *, measures: tuple[Coverage, ...] = COVERAGE
) -> HealthReport:
    """Judge the night on the working copy; raise ValidationFailed (nothing published) on a ``fail``
    finding, else return the report (``status`` ``degraded`` when any rule found a degraded night)."""
    conn = connect_writer(work, settings)
    try:
        conn.execute(_DDL)
        now = stamp_after(conn)
        report = HealthReport()
        report.findings += files_not_loaded(conn, run_id)
        report.findings += refused_files(conn, batches)
        report.findings += entity_losses(conn, settings, batches)
        report.findings += unmapped_codes(conn, settings, batches)
        report.findings += empty_marts(conn, settings)
        drops, report.coverage = coverage_drops(conn, settings, run_id, now, measures)
        report.findings += drops
        for finding in report.findings:
            log.warning("run health %s: %s", finding.outcome, finding.reason)
        conn.execute("checkpoint")
    finally:
        conn.close()
    if report.status == "failed":
        raise ValidationFailed(
            "the night is not healthy; nothing was published:\n  "
            + "\n  ".join(f"{finding.outcome}: {finding.reason}" for finding in report.findings),
            rule=next(finding.rule for finding in report.findings if finding.outcome == "fail"),
        )
    return report
