"""The tables journey itself owns (raw landing tables, quarantine, manifest, run record).

dbt owns everything downstream of `raw`; these tables are the loader's contract (data/README.md).
"""

from __future__ import annotations

import duckdb

LINEAGE_COLUMNS = """
    _source_file varchar not null,
    _row_number bigint not null,
    _batch_id varchar not null,
    _landing_date date not null,
    _loaded_at timestamp not null
"""

# The run record's columns: ops.runs in the warehouse and runs in warehouse/ops.duckdb share them.
RUNS_COLUMNS = """
    run_id varchar primary key,
    run_date date,
    first_day date,
    last_day date,
    started_at timestamp not null,
    finished_at timestamp,
    status varchar not null,
    stage varchar,
    files bigint,
    rows_read bigint,
    rows_loaded bigint,
    rows_quarantined bigint,
    checks_passed bigint,
    checks_failed bigint,
    stage_seconds json,
    reason varchar
"""

_DDL = f"""
create schema if not exists raw;
create schema if not exists quarantine;
create schema if not exists ops;

create table if not exists raw.load_manifest (
    batch_id varchar primary key,
    run_id varchar not null,
    source varchar not null,
    landing_date date not null,
    path varchar not null,
    size_bytes bigint not null,
    sha256 varchar not null,
    encoding varchar,
    rows_read bigint not null,
    rows_loaded bigint not null,
    rows_quarantined bigint not null,
    rows_skipped_types bigint not null,
    status varchar not null,
    reason varchar,
    loaded_at timestamp not null,
    file_stat varchar
);
-- warehouses from before file_stat (journey.ingest.landing.stat_key)
alter table raw.load_manifest add column if not exists file_stat varchar;
-- lines skipped per kind, JSON (journey.ingest.loader: unused resource types, export log lines)
alter table raw.load_manifest add column if not exists skipped_kinds varchar;

-- every entry under the landing root a run did not load, and why (journey.ingest.landing.REASONS):
-- each run records what it found (run_id), so the latest published run's rows are the current list
create table if not exists raw.files_not_loaded (
    run_id varchar not null,
    path varchar not null,
    source varchar,
    landing_date date,
    reason varchar not null,
    detail varchar not null,
    size_bytes bigint,
    file_stat varchar,
    recorded_at timestamp not null
);

create table if not exists quarantine.rows (
    batch_id varchar not null,
    source varchar not null,
    entity varchar,
    _source_file varchar not null,
    _row_number bigint not null,
    _landing_date date not null,
    rule varchar not null,
    severity varchar not null,
    detail varchar,
    original_values varchar,
    content_sha256 varchar,
    quarantined_at timestamp not null,
    replayed_at timestamp
);

create table if not exists ops.runs ({RUNS_COLUMNS});

-- per incremental staging model, the latest load / refusal / re-delivery stamp its last build took
-- in (written by the models' pre-hook, macros/staging.sql; created here, not by the hook, because
-- dbt builds models in parallel)
create table if not exists ops.staging_watermarks (
    model varchar primary key,
    loaded_through timestamp not null,
    recorded_at timestamp not null
);

-- the change feed (macros/change_feed.sql): keys a model rebuilt (a null key: all of them, a full
-- build), in order; each incremental consumer reads what its producers wrote since its position
create sequence if not exists ops.change_feed_sequence;
create table if not exists ops.change_feed (
    producer varchar not null,
    changed_key varchar,
    position bigint not null default nextval('ops.change_feed_sequence')
);
create table if not exists ops.change_feed_positions (
    consumer varchar not null,
    producer varchar not null,
    position bigint not null,
    recorded_at timestamp not null,
    primary key (consumer, producer)
);

create table if not exists raw.ehr_other (
    resource_type varchar,
    resource_id varchar,
    {LINEAGE_COLUMNS}
);
-- unused_type, operation_outcome (a bulk export's error entries) or export_log (its log lines)
alter table raw.ehr_other add column if not exists kind varchar;
"""


def fhir_table_ddl(table: str) -> str:
    return f"""create table if not exists raw.{table} (
        resource_id varchar,
        resource json,
        {LINEAGE_COLUMNS}
    );"""


def text_table_ddl(table: str, columns: tuple[str, ...]) -> str:
    cols = ",\n".join(f'"{name}" varchar' for name in columns)
    return f"""create table if not exists raw.{table} (
        {cols},
        {LINEAGE_COLUMNS}
    );"""


def ensure_schema(conn: duckdb.DuckDBPyConnection) -> None:
    """Create every table journey owns (idempotent), including an empty table per entity."""
    from journey.ingest.entities import ENTITIES

    conn.execute(_DDL)
    for entity in ENTITIES.values():
        if entity.fhir:
            conn.execute(fhir_table_ddl(entity.table))
        else:
            conn.execute(text_table_ddl(entity.table, entity.columns))
