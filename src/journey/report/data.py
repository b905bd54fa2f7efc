"""Read-only selects from the published marts for the dashboard and the worklist.

The marts change while the models evolve (new columns, suppression flags), so every reader checks
which columns exist and selects only those it knows; a chart whose columns are missing says so
instead of failing the whole report.
"""

from __future__ import annotations

from collections.abc import Iterable

import duckdb
import pandas as pd


class MissingData(Exception):
    """A table or column a chart needs is not in the warehouse (yet)."""


def table_columns(conn: duckdb.DuckDBPyConnection, table: str, schema: str = "marts") -> set[str]:
    """Column names of ``schema.table`` (empty when the table does not exist)."""
    rows = conn.execute(
        "select column_name from information_schema.columns where table_schema = ? and table_name = ?",
        [schema, table],
    ).fetchall()
    return {str(row[0]) for row in rows}


def select(
    conn: duckdb.DuckDBPyConnection,
    table: str,
    required: Iterable[str],
    optional: Iterable[str] = (),
    *,
    where: str = "",
    params: list[object] | None = None,
    schema: str = "marts",
) -> pd.DataFrame:
    """``select required + (optional that exist) from schema.table [where …]`` as a DataFrame.

    Raises MissingData naming the table and columns when a required column is absent."""
    present = table_columns(conn, table, schema)
    if not present:
        raise MissingData(f"{schema}.{table} is not in the warehouse")
    required = list(required)
    missing = [column for column in required if column not in present]
    if missing:
        raise MissingData(f"{schema}.{table} has no column {', '.join(missing)}")
    columns = required + [column for column in optional if column in present and column not in required]
    sql = f"select {', '.join(_quote(c) for c in columns)} from {_quote(schema)}.{_quote(table)}"
    if where:
        sql += f" where {where}"
    return conn.execute(sql, params or []).df()


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def period(conn: duckdb.DuckDBPyConnection) -> tuple[str, str] | None:
    """First and last hospital-local day in metrics_wait_daily (the period the report covers)."""
    if "metric_date" not in table_columns(conn, "metrics_wait_daily"):
        return None
    row = conn.execute("select min(metric_date), max(metric_date) from marts.metrics_wait_daily").fetchone()
    if row is None or row[0] is None:
        return None
    return str(row[0]), str(row[1])


def department_names(conn: duckdb.DuckDBPyConnection, language: str = "en") -> dict[str, str]:
    """department_code → its name in ``language`` (dim_department's department_name_zh for zh-CN,
    falling back to department_name; codes themselves when the dimension is missing)."""
    present = table_columns(conn, "dim_department")
    if not {"department_code", "department_name"} <= present:
        return {}
    name = "department_name"
    if language == "zh-CN" and "department_name_zh" in present:
        name = "coalesce(department_name_zh, department_name)"
    rows = conn.execute(f"select department_code, {name} from marts.dim_department").fetchall()
    return {str(code): str(label) for code, label in rows if label is not None}


def kpi_targets(conn: duckdb.DuckDBPyConnection) -> dict[str, float]:
    """kpi_code → target_value as metrics_kpi_status carries it (seeds/kpi_targets.csv)."""
    if not {"kpi_code", "target_value"} <= table_columns(conn, "metrics_kpi_status"):
        return {}
    rows = conn.execute(
        "select kpi_code, any_value(target_value) from marts.metrics_kpi_status group by kpi_code"
    ).fetchall()
    return {str(code): float(value) for code, value in rows if value is not None}
