"""Great Expectations gates: run the suites of one stage over this run's increment and act on them.

Suites are committed JSON in ``expectations/<stage>/<table>.json``; each expectation's ``meta`` says
its ``severity`` (``error`` / ``warn``) and ``level`` (``row`` / ``batch``):

* row-level error  → the failing rows move from ``raw`` to ``quarantine.rows`` with the rule, and the
  manifest's counts move with them (read = loaded + quarantined still holds); with ``meta.rule_column``
  each row's rule is that column's first word (``unreadable_values``: ``unparseable_time:received_at``);
* a check that raises, or a row-level error whose failing rows cannot be named, fails closed: it stops
  the run like a batch-level error (never recorded as passed or as "unknown");
* batch-level error → ValidationFailed naming file and rule: the run stops before publish;
* warn → recorded in ``ops.dq_results``, the run continues.

Validation is pandas-backed (GX's SQL datasource over duckdb-engine returns no rows, GX #11579):
DuckDB selects only this run's rows (by ``_batch_id``) and only the columns the suite reads, so the
cost grows with the day's increment, not with history.
"""

from __future__ import annotations

import csv
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from journey.config import Settings
from journey.errors import ValidationFailed
from journey.ingest.entities import entity_for_table
from journey.ops.clock import stamp_after
from journey.privacy.identifiers import quote_identifier, validated_identifier
from journey.quality.gx_session import GxSession
from journey.quality.landing_health import landing_health, run_days
from journey.warehouse.connection import connect_writer

log = logging.getLogger(__name__)

_DQ_DDL = """
create schema if not exists ops;
create table if not exists ops.dq_results (
    run_id varchar, stage varchar, suite varchar, expectation varchar, rule varchar,
    severity varchar, level varchar, success boolean, observed_value varchar,
    unexpected_count bigint, element_count bigint, checked_at timestamp
);
alter table ops.dq_results add column if not exists detail varchar;
"""


@dataclass(frozen=True)
class Suite:
    name: str
    stage: str
    #: The table checked (its schema is looked up), or None when ``frame`` names a computed frame.
    table: str | None
    #: The raw table a failing row is moved out of (row-level errors quarantine only then).
    raw_table: str | None
    expectations: tuple[dict[str, Any], ...]
    #: A computed frame instead of a table: ``landing_health`` (freshness and volume).
    frame: str | None = None

    @property
    def target(self) -> str:
        return self.table or self.frame or self.name

    @property
    def row_level(self) -> bool:
        """Every expectation judges rows one by one: the suite may check an increment chunk by chunk."""
        return all(e.get("meta", {}).get("level", "batch") == "row" for e in self.expectations)


@dataclass
class GateReport:
    stage: str
    passed: int = 0
    failed: int = 0
    warnings: int = 0
    rows_quarantined: int = 0
    errors: list[str] = field(default_factory=list)
    docs: Path | None = None


def _resolve(value: Any, seeds_dir: Path, settings: Settings, now: datetime) -> Any:
    """Resolve the references a suite may hold, so values are kept in one place:

    * ``{"$seed": "departments.code"}`` → that seed column's values;
    * ``{"$setting": "thresholds.max_wait_hours", "times": 60}`` → a setting (optionally scaled);
    * ``{"$now_plus_minutes": "thresholds.future_tolerance_minutes"}`` → now (UTC) + that setting
      + ``thresholds.date_shift_days`` (a de-identified export's dates lie that far in the future).
    """
    if isinstance(value, dict) and "$seed" in value:
        file, column = value["$seed"].split(".", 1)
        with (seeds_dir / f"{file}.csv").open(encoding="utf-8", newline="") as handle:
            return [row[column] for row in csv.DictReader(handle)]
    if isinstance(value, dict) and "$setting" in value:
        return _setting(settings, value["$setting"]) * value.get("times", 1)
    if isinstance(value, dict) and "$now_plus_minutes" in value:
        shift = timedelta(days=settings.thresholds.date_shift_days)
        return now + shift + timedelta(minutes=_setting(settings, value["$now_plus_minutes"]))
    if isinstance(value, dict):
        return {key: _resolve(item, seeds_dir, settings, now) for key, item in value.items()}
    if isinstance(value, list):
        return [_resolve(item, seeds_dir, settings, now) for item in value]
    return value


def _setting(settings: Settings, dotted: str) -> Any:
    value: Any = settings
    for part in dotted.split("."):
        value = getattr(value, part)
    return value


def load_suites(project_dir: Path, stage: str, settings: Settings, now: datetime) -> list[Suite]:
    """The committed suites of one stage, with seed/setting references resolved."""
    suites = []
    for path in sorted((project_dir / "expectations" / stage).glob("*.json")):
        payload = json.loads(path.read_text(encoding="utf-8"))
        for key in ("table", "raw_table"):  # identifiers from a file: validated before any SQL sees them
            if payload.get(key) is not None:
                validated_identifier(payload[key], where=f"{path} ({key})", qualified=key == "table")
        suites.append(
            Suite(
                name=payload["name"],
                stage=stage,
                table=payload.get("table"),
                raw_table=payload.get("raw_table"),
                frame=payload.get("frame"),
                expectations=tuple(
                    _resolve(e, project_dir / "seeds", settings, now) for e in payload["expectations"]
                ),
            )
        )
    return suites


def _relation(conn: duckdb.DuckDBPyConnection, table: str) -> str | None:
    """``schema.table`` as written, or the first schema holding ``table`` (quoted; names come from
    committed suites and are looked up in the catalog, never spliced unchecked)."""
    schema, _, name = table.rpartition(".")
    row = conn.execute(
        """select table_schema, table_name from information_schema.tables
           where table_name = ? and (? = '' or table_schema = ?) order by table_schema limit 1""",
        [name, schema, schema],
    ).fetchone()
    return f'"{row[0]}"."{row[1]}"' if row else None


_TABLE_LEVEL = ("expect_table_columns_to_match_set", "expect_table_columns_to_match_ordered_list",
                "expect_table_column_count_to_be_between")


def _columns_needed(suite: Suite) -> list[str] | None:
    """The columns the suite reads (None: all of them, for schema expectations)."""
    names: set[str] = set()
    for expectation in suite.expectations:
        if expectation["type"] in _TABLE_LEVEL:
            return None
        kwargs = expectation.get("kwargs", {})
        for key in ("column", "column_A", "column_B"):
            if key in kwargs:
                names.add(kwargs[key])
        names.update(kwargs.get("column_list", []))
    return sorted(names)


def _register_batches(conn: duckdb.DuckDBPyConnection, batches: list[str]) -> None:
    """The run's batch ids as temp table ``_gate_batches`` (a bound list, never spliced into SQL)."""
    conn.execute("create or replace temp table _gate_batches (batch_id varchar)")
    conn.execute("insert into _gate_batches select unnest(?::varchar[])", [list(batches)])


def _frames(
    conn: duckdb.DuckDBPyConnection, settings: Settings, suite: Suite, relation: str | None, batches: list[str]
) -> Iterator[pd.DataFrame]:
    """This run's increment of what the suite checks: rows of this run's batches when the relation
    carries lineage (raw and staging), else the whole (small, aggregated) relation.

    A row-level suite over lineage gets the increment in frames of at most
    ``settings.validate_chunk_rows`` rows, streamed from DuckDB on a cursor of its own (``conn`` stays
    free for the quarantine moves), so a backfill's increment never sits in pandas whole (its peak memory
    grew with the backfill, bench/README.md). Any other suite gets one frame."""
    _register_batches(conn, batches)
    if suite.frame == "landing_health":
        yield landing_health(conn, settings, run_days(conn))
        return
    assert relation is not None
    schema, table = (part.strip('"') for part in relation.split(".", 1))
    available = _relation_columns(conn, schema, table)
    wanted = _columns_needed(suite)
    lineage = "_batch_id" in available
    if wanted is None:
        columns = sorted(available, key=lambda c: (c.startswith("_"), c)) if lineage else []
    else:
        columns = wanted + (["_source_file", "_row_number", "_batch_id"] if lineage else [])
    missing = [c for c in dict.fromkeys(columns) if c not in available]
    if missing:
        raise ValidationFailed(
            f"{relation}: suite {suite.name} reads missing column(s) {', '.join(missing)} [rule: schema]",
            rule="schema",
        )
    cols = ", ".join(f'"{c}"' for c in dict.fromkeys(columns)) or "*"
    if not lineage:
        yield conn.execute(f"select {cols} from {relation}").df()
        return
    sql = f"select {cols} from {relation} where _batch_id in (select batch_id from _gate_batches)"
    if not suite.row_level:
        yield conn.execute(sql).df()
        return
    cursor = conn.cursor()
    try:
        _register_batches(cursor, batches)
        cursor.execute(sql)
        vectors = max(1, -(-settings.validate_chunk_rows // _VECTOR_ROWS))
        while not (chunk := cursor.fetch_df_chunk(vectors)).empty:
            yield chunk
    finally:
        cursor.close()


#: rows in one DuckDB vector (fetch_df_chunk counts in vectors)
_VECTOR_ROWS = 2048


def _relation_columns(conn: duckdb.DuckDBPyConnection, schema: str, table: str) -> list[str]:
    rows = conn.execute(
        "select column_name from information_schema.columns where table_schema = ? and table_name = ?"
        " order by ordinal_position",
        [schema, table],
    ).fetchall()
    return [row[0] for row in rows]


def _quarantine_rows(
    conn: duckdb.DuckDBPyConnection, suite: Suite, rows: pd.DataFrame, rule: str, detail: str, now: datetime
) -> int:
    """Move the given raw rows (by file + row number + batch) to quarantine; fix the manifest."""
    if rows.empty:
        return 0
    keys = rows[["_source_file", "_row_number", "_batch_id"]].drop_duplicates()
    conn.register("_bad", keys)
    raw = "raw." + quote_identifier(validated_identifier(suite.raw_table, where=f"suite {suite.name} (raw_table)"))
    has_resource = "resource" in _relation_columns(conn, "raw", suite.raw_table or "")
    content = "r.resource::varchar" if has_resource else "to_json(r)::varchar"
    moved = conn.execute(
        f"""insert into quarantine.rows
            select r._batch_id, m.source, ?, r._source_file, r._row_number, r._landing_date, ?, 'error', ?,
                   {content}, null, ?, null
            from {raw} r
            join _bad b using (_source_file, _row_number, _batch_id)
            join raw.load_manifest m on m.batch_id = r._batch_id
            where not exists (select 1 from quarantine.rows q where q.batch_id = r._batch_id
                              and q._row_number = r._row_number and q.rule = ? and q.replayed_at is null)""",
        [entity_for_table(suite.raw_table or ""), rule, detail, now, rule],
    ).fetchone()
    count = int(moved[0]) if moved else 0
    conn.execute(
        f"""update raw.load_manifest m set rows_loaded = m.rows_loaded - c.n,
                   rows_quarantined = m.rows_quarantined + c.n, status = 'partial'
            from (select r._batch_id, count(*) as n
                  from {raw} r join _bad b using (_source_file, _row_number, _batch_id)
                  group by 1) c
            where m.batch_id = c._batch_id"""
    )
    for table in (raw, *_staged_tables(conn)):
        conn.execute(f"delete from {table} r using _bad b where r._source_file = b._source_file "
                     "and r._row_number = b._row_number and r._batch_id = b._batch_id")
    conn.unregister("_bad")
    return count


def _staged_tables(conn: duckdb.DuckDBPyConnection) -> list[str]:
    """The incremental staging tables (they carry the raw row's lineage): a row refused here must
    leave them at once, so the gate's later suites do not check it again; the next dbt build puts
    back the version it had replaced (macros/staging.sql, "Incremental staging")."""
    rows = conn.execute(
        """select t.table_name from information_schema.tables t
           join information_schema.columns c using (table_catalog, table_schema, table_name)
           where t.table_schema = 'staging' and t.table_type = 'BASE TABLE' and c.column_name = '_batch_id'
           order by 1"""
    ).fetchall()
    return [f"staging.{quote_identifier(row[0])}" for row in rows]


def _places(frame: pd.DataFrame, result: Any, limit: int = 3) -> list[str]:
    """Where a check failed, for people: the first failing rows' file and row number (or table and
    day for the landing-health frame)."""
    index = [i for i in (result.result.get("unexpected_index_list") or []) if i in frame.index][:limit]
    rows = frame.loc[index] if index else frame.iloc[0:0]
    if "_source_file" in frame.columns:
        places = [f"{r['_source_file']} row {r['_row_number']}" for _, r in rows.iterrows()]
        if not places:
            places = sorted(frame["_source_file"].unique())[:limit]
    elif {"raw_table", "day"} <= set(frame.columns):
        places = [f"{r.raw_table} on {r.day} ({r.rows:.0f} rows, {r.entity_files:.0f} files)"
                  for r in rows.itertuples()]
    else:
        places = [", ".join(f"{k}={v}" for k, v in row.items() if not str(k).endswith("_id"))[:160]
                  for _, row in rows.iterrows()]
    return [str(place) for place in places]


@dataclass
class _Outcome:
    """One expectation's result over every frame of the increment (one frame unless chunked)."""

    config: Any
    success: bool = True
    unexpected: int | None = None
    elements: int = 0
    observed: Any = None
    places: list[str] = field(default_factory=list)
    #: why the check could not judge the rows (it raised), or its failing rows could not be named
    unjudged: str | None = None

    def add(self, frame: pd.DataFrame, result: Any, limit: int = 3) -> None:
        raised = _raised(result)
        if raised is not None:
            self.success = False
            self.unjudged = self.unjudged or f"the check raised {raised}"
            return
        value = result.result.get("observed_value")
        if self.elements == 0 or (self.success and not result.success):
            self.observed = value
        self.elements += int(result.result.get("element_count", len(frame)) or 0)
        count = result.result.get("unexpected_count")
        if count is not None:
            self.unexpected = (self.unexpected or 0) + int(count)
        if not result.success:
            self.success = False
            if len(self.places) < limit:
                self.places += _places(frame, result, limit - len(self.places))

    @property
    def where(self) -> str | None:
        if self.success:
            return None
        if self.unjudged is not None:
            return self.unjudged
        more = (self.unexpected or 0) - len(self.places)
        return "; ".join(self.places) + (f" (+{more} more)" if more > 0 and self.places else "") or "table level"

    @property
    def observed_text(self) -> str | None:
        return None if self.observed is None else json.dumps(self.observed, default=str)


def _raised(result: Any) -> str | None:
    """The exception an expectation raised (GX records it instead of failing the run), else None."""
    info = result.exception_info or {}
    infos = [info] if "raised_exception" in info else [v for v in info.values() if isinstance(v, dict)]
    for each in infos:
        if each.get("raised_exception"):
            message = str(each.get("exception_message") or "an exception").splitlines()[0]
            return message[:200]
    return None


def check_file_rejections(conn: duckdb.DuckDBPyConnection, settings: Settings, batches: list[str]) -> list[str]:
    """Batch-level rule on the load: a file mostly quarantined stops the run. A file refused outright
    (``rejected`` or ``deferred``) does not: the night goes on without it and run health ends it
    degraded, naming the file (journey.quality.health, ``file_refused``)."""
    if not batches:
        return []
    _register_batches(conn, batches)
    rows = conn.execute(
        """select path, status, reason, rows_read, rows_quarantined from raw.load_manifest
           where batch_id in (select batch_id from _gate_batches)
             and rows_read >= ? and rows_quarantined > ? * rows_read
           order by path""",
        [max(settings.thresholds.min_rows_for_share, 1), settings.thresholds.max_quarantine_share],
    ).fetchall()
    errors = []
    for path, _status, _reason, read, quarantined in rows:
        errors.append(
            f"{path}: {quarantined} of {read} rows failed row-level rules, more than the "
            f"{settings.thresholds.max_quarantine_share:.0%} allowed [rule: max_quarantine_share]"
        )
    return errors


def _meta(config: Any) -> tuple[str, str, str, str]:
    """An expectation's (severity, level, rule, description) from its ``meta``."""
    meta = dict(config.meta or {})
    rule = meta.get("rule", config.type)
    return meta.get("severity", "error"), meta.get("level", "batch"), rule, meta.get("description", rule)


def _quarantine_failed(
    conn: duckdb.DuckDBPyConnection, suite: Suite, frame: pd.DataFrame, result: Any, now: datetime
) -> int:
    """A failed row-level error check of a suite over raw rows: move this frame's failing rows to quarantine."""
    severity, level, rule, description = _meta(result.expectation_config)
    if severity != "error" or level != "row" or not suite.raw_table or _raised(result) is not None:
        return 0
    index = result.result.get("unexpected_index_list") or []
    bad = frame.loc[[i for i in index if i in frame.index]] if index else frame.iloc[0:0]
    rule_column = (result.expectation_config.meta or {}).get("rule_column")
    if not rule_column or bad.empty:
        return _quarantine_rows(conn, suite, bad, rule, description, now)
    moved = 0
    for problems, rows in bad.groupby(bad[rule_column].astype(str)):  # one rule per row: its first problem
        moved += _quarantine_rows(conn, suite, rows, problems.split()[0], f"{description}: {problems}", now)
    return moved


def _unnamed_failures(result: Any) -> bool:
    """A failed row-level check that names no failing row (it cannot quarantine: fail closed)."""
    if result.success or _raised(result) is not None:
        return False
    count = result.result.get("unexpected_count")
    return count is None or (int(count) > 0 and not result.result.get("unexpected_index_list"))


def _record(
    conn: duckdb.DuckDBPyConnection, report: GateReport, run_id: str, stage: str, suite: Suite, outcome: _Outcome,
    now: datetime,
) -> None:
    """One expectation's row in ops.dq_results, and its count in the report: a failed warn is
    logged, a failed row-level error was quarantined (``validate_stage``), any other failed error
    stops the run."""
    config = outcome.config
    severity, level, rule, _ = _meta(config)
    conn.execute(
        """insert into ops.dq_results (run_id, stage, suite, expectation, rule, severity, level, success,
               observed_value, unexpected_count, element_count, checked_at, detail)
           values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
        [run_id, stage, suite.name, config.type, rule, severity, level, outcome.success,
         outcome.observed_text, outcome.unexpected, outcome.elements, now, outcome.where],
    )
    if outcome.success:
        report.passed += 1
        return
    report.failed += 1
    if severity == "warn":
        report.warnings += 1
        log.warning("check %s.%s warned (%s unexpected): %s", suite.name, rule, outcome.unexpected, outcome.where)
    elif outcome.unjudged is not None:
        report.errors.append(
            f"{suite.name}: {rule} could not be checked ({outcome.unjudged}); failing closed [rule: {rule}]"
        )
    elif not (level == "row" and suite.raw_table):
        report.errors.append(
            f"{suite.name}: {rule} failed ({outcome.unexpected} unexpected) at {outcome.where} [rule: {rule}]"
        )


def validate_stage(
    settings: Settings, work: Path, stage: str, batches: list[str], run_id: str, *, build_docs: bool = True
) -> GateReport:
    """Run every suite of ``stage`` on the working copy; quarantine, record, or stop as the suites say."""
    report = GateReport(stage=stage)
    conn = connect_writer(work, settings)
    session = GxSession(settings.site_dir / "quality" / stage if build_docs else None, run_name=run_id)
    try:
        # after this run's load stamp even if the clock was set back (incremental staging compares them)
        now = stamp_after(conn)
        conn.execute(_DQ_DDL)
        if stage == "landing":
            report.errors += check_file_rejections(conn, settings, batches)
        for suite in load_suites(settings.project_dir, stage, settings, now):
            relation = _relation(conn, suite.table) if suite.table else None
            if suite.table and relation is None:
                report.errors.append(f"{suite.table}: table not found for suite {suite.name} [rule: table_exists]")
                continue
            outcomes: dict[int, _Outcome] = {}
            for frame in _frames(conn, settings, suite, relation, batches):
                if frame.empty:
                    continue
                for position, result in enumerate(session.validate(suite.name, frame, list(suite.expectations))):
                    outcome = outcomes.setdefault(position, _Outcome(result.expectation_config))
                    outcome.add(frame, result)
                    if not result.success:
                        report.rows_quarantined += _quarantine_failed(conn, suite, frame, result, now)
                        if _meta(result.expectation_config)[1] == "row" and _unnamed_failures(result):
                            outcome.unjudged = outcome.unjudged or "its failing rows could not be named"
            for outcome in outcomes.values():
                _record(conn, report, run_id, stage, suite, outcome, now)
        conn.execute("checkpoint")
    finally:
        conn.close()
    report.docs = session.build_docs()
    log.info(
        "validated %s: %d passed, %d failed, %d warnings, %d rows quarantined",
        stage, report.passed, report.failed, report.warnings, report.rows_quarantined,
    )
    if report.errors:
        raise ValidationFailed(
            f"{len(report.errors)} error-severity check(s) failed at {stage}; nothing was published:\n  "
            + "\n  ".join(report.errors)
        )
    return report
