"""Do the floor, the fair floor, the pandas baseline and journey's published marts give the same core metrics?

Each table is compared on its keys over the cells that have units (encounters / responses / closed
30-day windows > 0): rows only on one side, and per value column the cells that differ (NULL on one
side only, or |a - b| > 1e-6) with the largest difference.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb


@dataclass(frozen=True)
class Table:
    name: str
    keys: tuple[str, ...]
    unit: str
    values: tuple[str, ...]
    mart: str


TABLES = (
    Table("wait_daily", ("metric_date", "department_code", "encounter_class"), "encounters",
          ("encounters", "door_to_provider_p50_min", "door_to_provider_p90_min", "los_p50_hours", "los_p90_hours",
           "lwbs_rate"), "marts.metrics_wait_daily"),
    Table("satisfaction_monthly", ("month_start_date", "department_code"), "responses",
          ("responses", "nps", "overall_top_box_pct"), "marts.metrics_satisfaction_monthly"),
    Table("return_monthly", ("month_start_date", "department_code"), "return_30d_n",
          ("return_30d_n", "returns_30d", "return_rate_30d"), "marts.metrics_loyalty_monthly"),
)


def _select(table: Table, relation: str) -> str:
    keys = ", ".join(f"cast({key} as {'date' if key.endswith('_date') else 'varchar'}) as {key}" for key in table.keys)
    values = ", ".join(f"cast({value} as double) as {value}" for value in table.values)
    return f"select {keys}, {values} from {relation} where {table.unit} > 0"


def _compare(conn: duckdb.DuckDBPyConnection, table: Table, left: str, right: str) -> dict[str, Any]:
    on = " and ".join(f"l.{key} = r.{key}" for key in table.keys)
    diffs = ", ".join(
        f"count(*) filter (where l.{table.keys[0]} is not null and r.{table.keys[0]} is not null "
        f"and ((l.{v} is null) <> (r.{v} is null) or abs(l.{v} - r.{v}) > 1e-6)), max(abs(l.{v} - r.{v}))"
        for v in table.values
    )
    row = conn.sql(
        f"select count(*) filter (where r.{table.keys[0]} is null), count(*) filter (where l.{table.keys[0]} is null), "
        f"count(*) filter (where l.{table.keys[0]} is not null and r.{table.keys[0]} is not null), {diffs} "
        f"from ({_select(table, left)}) l full outer join ({_select(table, right)}) r on {on}"
    ).fetchone()
    assert row is not None
    columns = {
        value: {"cells_differing": row[3 + 2 * i], "max_abs_diff": row[4 + 2 * i]}
        for i, value in enumerate(table.values)
    }
    return {"only_left": row[0], "only_right": row[1], "matched": row[2], "columns": columns}


def agreement(floor_db: Path, pandas_dir: Path, warehouse: Path | None,
              fair_floor_db: Path | None = None) -> dict[str, Any]:
    """{table: {"floor_vs_pandas": …, "floor_vs_marts": …, "fair_floor_vs_floor": …, "fair_floor_vs_marts": …}}
    (marts only if a warehouse was published, the fair floor's only if its file is there)."""
    conn = duckdb.connect()
    conn.execute(f"attach '{floor_db}' as floor_db (read_only)")
    has_marts = warehouse is not None and warehouse.is_file()
    if has_marts:
        conn.execute(f"attach '{warehouse}' as wh (read_only)")
    has_fair = fair_floor_db is not None and fair_floor_db.is_file()
    if has_fair:
        conn.execute(f"attach '{fair_floor_db}' as fair_db (read_only)")
    report: dict[str, Any] = {}
    for table in TABLES:
        floor = f"floor_db.floor_{table.name}"
        parquet = pandas_dir / f"{table.name}.parquet"
        entry: dict[str, Any] = {}
        if parquet.is_file():
            entry["floor_vs_pandas"] = _compare(conn, table, floor, f"read_parquet('{parquet}')")
        pairs = [("floor_vs_marts", floor, f"wh.{table.mart}")] if has_marts else []
        if has_fair:
            fair = f"fair_db.floor_{table.name}"
            pairs.append(("fair_floor_vs_floor", fair, floor))
            if has_marts:
                pairs.append(("fair_floor_vs_marts", fair, f"wh.{table.mart}"))
        for name, left, right in pairs:
            try:
                entry[name] = _compare(conn, table, left, right)
            except duckdb.Error as error:
                entry[name] = {"error": str(error).splitlines()[0]}
        report[table.name] = entry
    conn.close()
    return report
