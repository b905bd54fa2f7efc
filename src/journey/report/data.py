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


def ed_arrivals(conn: duckdb.DuckDBPyConnection, timezone: str) -> pd.DataFrame:
    """ED visits (not LWBS) with a door-to-provider time: local ISO weekday, local hour, minutes.

    A new aggregate (hour of day × weekday) that the marts do not have yet; read from fct_encounters."""
    present = table_columns(conn, "fct_encounters")
    needed = {"arrived_at", "door_to_provider_min", "encounter_class", "is_visit", "is_lwbs"}
    if not needed <= present:
        raise MissingData(f"marts.fct_encounters has no column {', '.join(sorted(needed - present))}")
    return conn.execute(
        """
        with local as (
            select timezone(?, timezone('UTC', arrived_at)) as arrived_local, door_to_provider_min
            from marts.fct_encounters
            where encounter_class = 'EMER' and is_visit and not is_lwbs
              and door_to_provider_min is not null and arrived_at is not null
        )
        select isodow(arrived_local) as weekday, hour(arrived_local) as hour, door_to_provider_min
        from local
        """,
        [timezone],
    ).df()


def respondent_waits(conn: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Visits with a primary survey NPS and a door-to-provider time (not LWBS): the respondent's wait."""
    return select(
        conn, "fct_encounters", ["department_code", "nps_score", "door_to_provider_min"],
        where="is_visit and not is_lwbs and nps_score is not null and door_to_provider_min is not null",
    )


def period(conn: duckdb.DuckDBPyConnection) -> tuple[str, str] | None:
    """First and last hospital-local day in metrics_wait_daily (the period the report covers)."""
    if "metric_date" not in table_columns(conn, "metrics_wait_daily"):
        return None
    row = conn.execute("select min(metric_date), max(metric_date) from marts.metrics_wait_daily").fetchone()
    if row is None or row[0] is None:
        return None
    return str(row[0]), str(row[1])


def department_names(conn: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """department_code → department_name (codes themselves when the dimension is missing)."""
    if not {"department_code", "department_name"} <= table_columns(conn, "dim_department"):
        return {}
    rows = conn.execute("select department_code, department_name from marts.dim_department").fetchall()
    return {str(code): str(name) for code, name in rows if name is not None}
