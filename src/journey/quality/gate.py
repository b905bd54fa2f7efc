"""Great Expectations gates: run the suites of one stage over this run's increment and act on them.

Suites are committed JSON in ``expectations/<stage>/<table>.json``; each expectation's ``meta`` says
its ``severity`` (``error`` / ``warn``) and ``level`` (``row`` / ``batch``):

* row-level error  → the failing rows move from ``raw`` to ``quarantine.rows`` with the rule, and the
  manifest's counts move with them (read = loaded + quarantined still holds);
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
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from journey.config import Settings
from journey.errors import ValidationFailed
from journey.warehouse.connection import connect_writer

log = logging.getLogger(__name__)

_DQ_DDL = """
create schema if not exists ops;
create table if not exists ops.dq_results (
    run_id varchar, stage varchar, suite varchar, expectation varchar, rule varchar,
    severity varchar, level varchar, success boolean, observed_value varchar,
    unexpected_count bigint, element_count bigint, checked_at timestamp
);
"""


@dataclass(frozen=True)
class Suite:
    name: str
    stage: str
    table: str
    raw_table: str | None
    expectations: tuple[dict[str, Any], ...]


@dataclass
class GateReport:
    stage: str
    passed: int = 0
    failed: int = 0
    warnings: int = 0
    rows_quarantined: int = 0
    errors: list[str] = field(default_factory=list)


def _resolve(value: Any, seeds_dir: Path) -> Any:
    """``{"$seed": "departments.code"}`` → that seed column's values (codes are kept in one place)."""
    if isinstance(value, dict) and set(value) == {"$seed"}:
        file, column = value["$seed"].split(".", 1)
        with (seeds_dir / f"{file}.csv").open(encoding="utf-8", newline="") as handle:
            return [row[column] for row in csv.DictReader(handle)]
    if isinstance(value, dict):
        return {key: _resolve(item, seeds_dir) for key, item in value.items()}
    return value


def load_suites(project_dir: Path, stage: str) -> list[Suite]:
    """The committed suites of one stage, with seed references resolved."""
    suites = []
    for path in sorted((project_dir / "expectations" / stage).glob("*.json")):
        payload = json.loads(path.read_text(encoding="utf-8"))
        suites.append(
            Suite(
                name=payload["name"],
                stage=stage,
                table=payload["table"],
                raw_table=payload.get("raw_table"),
                expectations=tuple(_resolve(e, project_dir / "seeds") for e in payload["expectations"]),
            )
        )
    return suites


def _relation(conn: duckdb.DuckDBPyConnection, table: str) -> str | None:
    row = conn.execute(
        "select table_schema from information_schema.tables where table_name = ? order by table_schema limit 1",
        [table],
    ).fetchone()
    return f'"{row[0]}"."{table}"' if row else None


def _columns_needed(suite: Suite) -> list[str]:
    names: set[str] = set()
    for expectation in suite.expectations:
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


def _frame(conn: duckdb.DuckDBPyConnection, suite: Suite, relation: str, batches: list[str]) -> pd.DataFrame:
    columns = _columns_needed(suite)
    if suite.raw_table:
        columns += ["_source_file", "_row_number", "_batch_id"]
        cols = ", ".join(f'"{c}"' for c in dict.fromkeys(columns))
        _register_batches(conn, batches)
        sql = f"select {cols} from {relation} where _batch_id in (select batch_id from _gate_batches)"
    else:
        cols = ", ".join(f'"{c}"' for c in columns) or "*"
        sql = f"select {cols} from {relation}"
    return conn.execute(sql).df()


def _gx_validate(frame: pd.DataFrame, suite: Suite) -> list[Any]:
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations as gx
    from great_expectations.expectations.expectation_configuration import ExpectationConfiguration

    context = gx.get_context(mode="ephemeral")
    asset = context.data_sources.add_pandas("journey").add_dataframe_asset(suite.name)
    batch = asset.add_batch_definition_whole_dataframe("increment").get_batch(batch_parameters={"dataframe": frame})
    gx_suite = gx.ExpectationSuite(
        name=suite.name,
        expectations=[
            ExpectationConfiguration(type=e["type"], kwargs=e["kwargs"], meta=e.get("meta", {})).to_domain_obj()
            for e in suite.expectations
        ],
    )
    result = batch.validate(gx_suite, result_format={"result_format": "COMPLETE"})
    return list(result.results)


def _quarantine_rows(
    conn: duckdb.DuckDBPyConnection, suite: Suite, rows: pd.DataFrame, rule: str, detail: str, now: datetime
) -> int:
    """Move the given raw rows (by file + row number + batch) to quarantine; fix the manifest."""
    if rows.empty:
        return 0
    keys = rows[["_source_file", "_row_number", "_batch_id"]].drop_duplicates()
    conn.register("_bad", keys)
    raw = f"raw.{suite.raw_table}"
    content = "to_json(r)::varchar" if "resource" not in _raw_columns(conn, suite.raw_table) else "r.resource::varchar"
    moved = conn.execute(
        f"""insert into quarantine.rows
            select r._batch_id, m.source, ?, r._source_file, r._row_number, r._landing_date, ?, 'error', ?,
                   {content}, null, ?, null
            from {raw} r
            join _bad b using (_source_file, _row_number, _batch_id)
            join raw.load_manifest m on m.batch_id = r._batch_id
            where not exists (select 1 from quarantine.rows q where q.batch_id = r._batch_id
                              and q._row_number = r._row_number and q.rule = ?)""",
        [suite.table, rule, detail, now, rule],
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
    conn.execute(f"delete from {raw} r using _bad b where r._source_file = b._source_file "
                 "and r._row_number = b._row_number and r._batch_id = b._batch_id")
    conn.unregister("_bad")
    return count


def _raw_columns(conn: duckdb.DuckDBPyConnection, table: str | None) -> set[str]:
    rows = conn.execute(
        "select column_name from information_schema.columns where table_schema = 'raw' and table_name = ?", [table]
    ).fetchall()
    return {row[0] for row in rows}


def _observed(result: Any) -> str | None:
    value = result.result.get("observed_value")
    return None if value is None else json.dumps(value, default=str)


def check_file_rejections(conn: duckdb.DuckDBPyConnection, settings: Settings, batches: list[str]) -> list[str]:
    """Batch-level rule on the load: a file mostly quarantined, or rejected outright, stops the run."""
    if not batches:
        return []
    _register_batches(conn, batches)
    rows = conn.execute(
        """select path, status, reason, rows_read, rows_quarantined from raw.load_manifest
           where batch_id in (select batch_id from _gate_batches)
             and (status = 'rejected'
                  or (rows_read >= ? and rows_quarantined > ? * rows_read))
           order by path""",
        [max(settings.thresholds.min_rows_for_share, 1), settings.thresholds.max_quarantine_share],
    ).fetchall()
    errors = []
    for path, status, reason, read, quarantined in rows:
        if status == "rejected":
            errors.append(f"{path}: file rejected ({reason}) [rule: file_readable]")
        else:
            errors.append(
                f"{path}: {quarantined} of {read} rows failed row-level rules, more than the "
                f"{settings.thresholds.max_quarantine_share:.0%} allowed [rule: max_quarantine_share]"
            )
    return errors


def validate_stage(settings: Settings, work: Path, stage: str, batches: list[str], run_id: str) -> GateReport:
    """Run every suite of ``stage`` on the working copy; quarantine, record, or stop as the suites say."""
    report = GateReport(stage=stage)
    now = datetime.now(UTC).replace(tzinfo=None)
    conn = connect_writer(work, settings)
    try:
        conn.execute(_DQ_DDL)
        if stage == "staging":
            report.errors += check_file_rejections(conn, settings, batches)
        for suite in load_suites(settings.project_dir, stage):
            relation = _relation(conn, suite.table)
            if relation is None:
                report.errors.append(f"{suite.table}: table not found for suite {suite.name} [rule: table_exists]")
                continue
            frame = _frame(conn, suite, relation, batches)
            if frame.empty:
                continue
            for result in _gx_validate(frame, suite):
                config = result.expectation_config
                meta = dict(config.meta or {})
                severity, level = meta.get("severity", "error"), meta.get("level", "batch")
                rule = meta.get("rule", config.type)
                unexpected = result.result.get("unexpected_count")
                conn.execute(
                    "insert into ops.dq_results values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [run_id, stage, suite.name, config.type, rule, severity, level, bool(result.success),
                     _observed(result), unexpected, result.result.get("element_count", len(frame)), now],
                )
                if result.success:
                    report.passed += 1
                    continue
                report.failed += 1
                if severity == "warn":
                    report.warnings += 1
                    log.warning("check %s.%s warned (%s unexpected)", suite.name, rule, unexpected)
                elif level == "row" and suite.raw_table:
                    index = result.result.get("unexpected_index_list") or []
                    bad = frame.loc[[i for i in index if i in frame.index]] if index else frame.iloc[0:0]
                    report.rows_quarantined += _quarantine_rows(
                        conn, suite, bad, rule, meta.get("description", rule), now
                    )
                else:
                    files = ""
                    if "_source_file" in frame.columns:
                        files = " in " + ", ".join(sorted(frame["_source_file"].unique())[:3])
                    report.errors.append(f"{suite.name}{files}: {rule} failed ({unexpected} unexpected) [rule: {rule}]")
        conn.execute("checkpoint")
    finally:
        conn.close()
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
