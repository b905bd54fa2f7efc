"""Analysts see the dbt descriptions in any client: on a built warehouse every dbt table and column
carries its description as a DuckDB comment (persist_docs), read back through duckdb_tables() and
duckdb_columns() — the analyst contract (metrics_*) word for word as the model yml renders it."""

from __future__ import annotations

import json

import duckdb
import pytest

from journey.config import Settings

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("small_hospital")]

DBT_SCHEMAS = ("staging", "intermediate", "marts", "seeds")


@pytest.fixture(scope="module")
def catalog(small_hospital: Settings) -> dict[str, dict[str, str | None]]:
    """schema.table → {"": table comment, column: column comment} for every dbt schema."""
    conn = duckdb.connect(str(small_hospital.work_path), read_only=True)
    try:
        tables = conn.execute(
            "select schema_name, table_name, comment from duckdb_tables() where schema_name in ?", [DBT_SCHEMAS]
        ).fetchall()
        columns = conn.execute(
            "select schema_name, table_name, column_name, comment from duckdb_columns() where schema_name in ?",
            [DBT_SCHEMAS],
        ).fetchall()
    finally:
        conn.close()
    found: dict[str, dict[str, str | None]] = {f"{schema}.{table}": {"": comment} for schema, table, comment in tables}
    for schema, table, column, comment in columns:
        found[f"{schema}.{table}"][column] = comment
    return found


def _manifest_models(settings: Settings) -> list[dict]:
    manifest = json.loads((settings.dbt_target_dir / "manifest.json").read_text(encoding="utf-8"))
    return [node for node in manifest["nodes"].values() if node["resource_type"] in ("model", "seed")]


def test_every_dbt_table_and_column_has_a_comment(catalog: dict[str, dict[str, str | None]]) -> None:
    assert sum(name.startswith("marts.metrics_") for name in catalog) >= 8
    undescribed = sorted(f"{table}.{column}" if column else table for table, columns in catalog.items()
                         for column, comment in columns.items() if not (comment or "").strip())
    assert undescribed == []


def test_contract_columns_carry_their_yml_descriptions(
    small_hospital: Settings, catalog: dict[str, dict[str, str | None]]
) -> None:
    contract = [node for node in _manifest_models(small_hospital) if node["name"].startswith("metrics_")
                or node["name"] in ("fct_service_recovery_items", "fct_survey_driver_inputs")]
    assert len(contract) >= 10
    for node in contract:
        table = catalog[f"{node['schema']}.{node['alias'] or node['name']}"]
        assert table[""] == node["description"], node["name"]
        assert set(node["columns"]) == set(table) - {""}, f"{node['name']}: every column in the yml"
        for name, column in node["columns"].items():
            assert table[name] == column["description"], f"{node['name']}.{name}"
