"""The fair floor (issue 24): every landed row into a DuckDB file by DuckDB's own readers, then floor.sql.

The least a DuckDB engineer would do to meet journey's obligations at the door before computing the
core metrics, one statement per kind of file (never one per file or per line), in phases:

  read        every ``ehr/<day>/**/*.ndjson`` in one ``read_json_objects``: the line, its file, its row
  type        one table per FHIR type journey reads, by ``resourceType`` (``ehr_other`` keeps the rest);
              each kept through the loader's own expression: its allow-list (Patient without name,
              telecom, identifier, address, contact; references' display dropped or scrubbed), every
              Patient reference and conditional person reference keyed with journey's ``journey_key``
              (HMAC-SHA256 with the pseudonymisation secret); ``ehr_other`` only has its references keyed
  files       per CSV/JSONL entity of the contract, all its files in one ``read_csv`` (all varchar) or
              ``read_json`` (contract columns as varchar); patient columns keyed, free text scrubbed
  checkpoint  the file made durable and compressed, as a load commits
  metrics     bench/floor.sql over views of those tables (their columns: bench/floor_read.sql's)

Not done (journey does them): structural rules, quarantine, manifest and accounting, encodings other
than UTF-8, gzip, scrubbing coded columns, GX, dbt. Run from bench/run.py as its ``fair_floor`` measure, or by hand:

    python bench/fair_floor.py --landing LANDING --db fair_floor.duckdb [--out phases.json]

The key is journey's (``JOURNEY_SECRET`` or the data dir's secret file, ``Settings.pseudonym_key``).
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from pathlib import Path
from typing import Any

import duckdb
from jobs import FLOOR_READ_SQL, FLOOR_SQL, floor_connection

from journey.ingest.entities import ENTITIES, FHIR_TYPES, Entity
from journey.ingest.loader import _pseudonymise_refs, fhir_resource_sql
from journey.ingest.pseudonymise import install_macros

#: the relations floor.sql reads, and the fair floor table each is a view of
LANDED_VIEWS = {"landed_encounters": "ehr_encounter", "landed_locations": "ehr_location",
                "landed_questionnaire_responses": "ehr_questionnaire_response"}
FHIR_GLOB = "ehr/*/**/*.ndjson"


def _numbered(relation: str, landing: Path) -> str:
    """``relation``'s rows with ``_source_file`` (relative to landing) and ``_row_number`` (1 = the
    file's first record): the scan's order is kept (``preserve_insertion_order``), so a row's ordinal
    in the whole scan less its file's first ordinal is its place in the file."""
    prefix = len(str(landing).rstrip("/")) + 2
    return f"""
        select * exclude (filename, _ordinal), substr(filename, {prefix}) as _source_file,
               _ordinal - min(_ordinal) over (partition by filename) + 1 as _row_number
        from (select *, row_number() over () as _ordinal from {relation})"""


def _fhir_tables_sql() -> list[str]:
    """One ``create table`` per FHIR type journey reads, and ``ehr_other``, from ``fhir_lines``."""
    statements = []
    for name in sorted(FHIR_TYPES):
        # the loader's own expression: its allow-list (Patient's identifying elements and every
        # reference's display dropped or scrubbed) over the line with Patient references keyed
        expr = fhir_resource_sql(name, "line")
        statements.append(f"""create table {ENTITIES[name].table} as
            select {expr}::json as resource, _source_file, _row_number
            from fhir_lines where resource_type = '{name}'""")
    known = ", ".join(f"'{name}'" for name in sorted(FHIR_TYPES))
    statements.append(f"""create table ehr_other as
        select resource_type, {_pseudonymise_refs("line")}::json as resource, _source_file, _row_number
        from fhir_lines where resource_type is null or resource_type not in ({known})""")
    return statements


def _file_table_sql(entity: Entity, landing: Path) -> str | None:
    """All of ``entity``'s CSV/JSONL files in one reader call (None if none landed)."""
    pattern = f"{entity.source}/*/**/{entity.name}*.{entity.format}"
    if not any(landing.glob(pattern)):
        return None
    if entity.format == "csv":
        reader = f"read_csv('{pattern}', all_varchar = true, header = true, filename = true, union_by_name = true)"
    else:
        columns = ", ".join(f"'{column}': 'varchar'" for column in entity.columns)
        reader = f"read_json('{pattern}', format = 'newline_delimited', filename = true, columns = {{{columns}}})"
    values = []
    for column in entity.columns:
        if column in entity.patient_columns:
            values.append(f"journey_key({column}) as {column}")
        elif column in entity.free_text_columns:
            values.append(f"journey_scrub({column}) as {column}")
        else:
            values.append(column)
    return f"""create table {entity.table} as
        select {", ".join(values)}, _source_file, _row_number
        from ({_numbered(f"(select {', '.join(entity.columns)}, filename from {reader})", landing)})"""


def _landed_views(conn: duckdb.DuckDBPyConnection) -> None:
    """floor.sql's relations as views of the loaded tables, typed as floor_read.sql types them."""
    conn.execute(FLOOR_READ_SQL.read_text(encoding="utf-8"))  # views over the files: only their types are read
    for view, table in LANDED_VIEWS.items():
        columns = [(name, kind) for name, kind, *_ in conn.sql(f"describe {view}").fetchall() if name != "filename"]
        shape = ", ".join(f'"{name}" {kind}' for name, kind in columns)
        conn.execute(f"""create or replace temp view {view} as
            select unnest(try_cast(resource as struct({shape}))), _source_file as filename from {table}""")


def run_fair_floor(landing: Path, db: Path, key: bytes) -> dict[str, Any]:
    """Run the fair floor over ``landing`` into a fresh ``db``: seconds per phase, peak RSS, rows per table."""
    landing = landing.resolve()
    phases: dict[str, float] = {}
    started = time.perf_counter()
    conn = floor_connection(db, landing)
    install_macros(conn, key)

    def phase(name: str, statements: list[str]) -> None:
        begun = time.perf_counter()
        for statement in statements:
            conn.execute(statement)
        phases[name] = round(time.perf_counter() - begun, 3)

    phases["setup"] = round(time.perf_counter() - started, 3)
    phase("read", [f"""create temp table fhir_lines as
        select line ->> 'resourceType' as resource_type, *
        from ({_numbered(f"(select json as line, filename from read_json_objects('{FHIR_GLOB}', "
                         "format = 'newline_delimited', filename = true))", landing)})"""])
    phase("type", [*_fhir_tables_sql(), "drop table fhir_lines"])
    files = [sql for entity in ENTITIES.values() if not entity.fhir and (sql := _file_table_sql(entity, landing))]
    phase("files", files)
    phase("checkpoint", ["checkpoint"])
    begun = time.perf_counter()
    _landed_views(conn)
    conn.execute(FLOOR_SQL.read_text(encoding="utf-8"))
    phases["metrics"] = round(time.perf_counter() - begun, 3)
    tables = {
        name: {"rows": rows, "files": file_count}
        for name, rows, file_count in (
            (name, *conn.sql(f"select count(*), count(distinct _source_file) from {name}").fetchone())  # type: ignore[misc]
            for (name,) in conn.sql("select table_name from duckdb_tables() where not temporary "
                                    "and table_name not like 'floor_%' order by 1").fetchall()
        )
    }
    conn.close()
    return {
        "phase_seconds": phases,
        "wall_s": round(time.perf_counter() - started, 3),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "landed_rows": sum(entry["rows"] for entry in tables.values()),
        "files": sum(entry["files"] for entry in tables.values()),
        "tables": tables,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--landing", type=Path, required=True, help="the landing root (ehr/, crm/, relations/)")
    parser.add_argument("--db", type=Path, required=True, help="the DuckDB file to create (replaced)")
    parser.add_argument("--out", type=Path, help="write the phases, peak RSS and row counts here (JSON)")
    args = parser.parse_args(argv)
    from journey.config import Settings

    report = run_fair_floor(args.landing, args.db, Settings().pseudonym_key())
    text = json.dumps(report, indent=2)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
