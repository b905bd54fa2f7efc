"""Give quarantined rows another chance once what refused them is fixed.

Two kinds of quarantine rows, two ways back:

* **refused by a quality rule** (a GX row-level error: unknown code, future timestamp, ...): the row
  was loaded, then moved out with its (pseudonymised) content. When the rule's inputs are fixed — a
  seed gains the code, a threshold is corrected — ``reinstate`` moves the content back into its raw
  table and the run re-validates those batches: rows that still fail return to quarantine;
* **refused by the loader** (malformed line, missing required field, unreadable file): the content
  is not kept in a loadable form (a malformed line may hold unscrubbed identifiers). These need the
  corrected file: re-delivered at the same path, it supersedes its earlier version on the next run.
  ``reinstate`` reports them as waiting for re-delivery.

The manifest moves with the rows, so ``rows_read = rows_loaded + rows_quarantined`` still holds.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import duckdb

from journey.config import Settings
from journey.ingest.entities import ENTITIES
from journey.quality.health import LOAD_RULES
from journey.warehouse.connection import connect_writer

log = logging.getLogger(__name__)

#: Rules the loader applies; their rows come back only with a corrected file.
LOADER_RULES = tuple(sorted(LOAD_RULES))


@dataclass
class ReplayReport:
    reinstated: int = 0
    batch_ids: list[str] = field(default_factory=list)
    #: (file, rows) still needing a corrected file.
    awaiting_redelivery: list[tuple[str, int]] = field(default_factory=list)


def _selection(path: str | None, rule: str | None) -> tuple[str, list[object]]:
    return (
        "replayed_at is null and (? is null or _source_file = ?) and (? is null or rule = ?)",
        [path, path, rule, rule],
    )


def _is_loader_rule() -> str:
    listed = ", ".join(f"'{rule}'" for rule in LOADER_RULES)  # constants, not input
    return f"(rule in ({listed}) or rule like 'required:%' or original_values is null)"


def reinstate(
    conn: duckdb.DuckDBPyConnection, *, now: datetime, path: str | None = None, rule: str | None = None
) -> ReplayReport:
    """Move quality-rule quarantine rows (optionally of one file / one rule) back into raw."""
    where, params = _selection(path, rule)
    report = ReplayReport()
    report.awaiting_redelivery = [
        (row[0], int(row[1]))
        for row in conn.execute(
            f"select _source_file, count(*) from quarantine.rows where {where} and {_is_loader_rule()} "
            "group by 1 order by 1",
            params,
        ).fetchall()
    ]
    conn.execute(
        f"""create or replace temp table _replay as
            select * from quarantine.rows where {where} and not {_is_loader_rule()}""",
        params,
    )
    conn.execute("begin transaction")
    try:
        for entity in ENTITIES.values():
            if entity.fhir:
                conn.execute(
                    f"""insert into raw."{entity.table}" (resource_id, resource, _source_file, _row_number, _batch_id,
                                                          _landing_date, _loaded_at)
                        select original_values::json ->> '$.id', original_values::json, _source_file, _row_number,
                               batch_id, _landing_date, ?
                        from _replay where entity = ?""",
                    [now, entity.name],
                )
            else:
                columns = ", ".join(f'"{c}"' for c in entity.columns)
                values = ", ".join(f"original_values::json ->> '{c}'" for c in entity.columns)
                conn.execute(
                    f"""insert into raw."{entity.table}" ({columns}, _source_file, _row_number, _batch_id,
                                                          _landing_date, _loaded_at)
                        select {values}, _source_file, _row_number, batch_id, _landing_date, ?
                        from _replay where entity = ?""",
                    [now, entity.name],
                )
        conn.execute(
            """update raw.load_manifest m
               set rows_loaded = m.rows_loaded + c.n, rows_quarantined = m.rows_quarantined - c.n,
                   status = case when m.rows_quarantined - c.n = 0 then 'loaded' else 'partial' end
               from (select batch_id, count(*) as n from _replay group by 1) c
               where m.batch_id = c.batch_id"""
        )
        conn.execute(
            """update quarantine.rows q set replayed_at = ?
               from _replay r
               where q.batch_id = r.batch_id and q._row_number = r._row_number and q.rule = r.rule
                 and q.replayed_at is null""",
            [now],
        )
        conn.execute("commit")
    except BaseException:
        conn.execute("rollback")
        raise
    report.batch_ids = [row[0] for row in conn.execute("select distinct batch_id from _replay order by 1").fetchall()]
    report.reinstated = int(conn.execute("select count(*) from _replay").fetchone()[0])  # type: ignore[index]
    log.info(
        "reinstated %d quarantined rows from %d batches; %d files await a corrected re-delivery",
        report.reinstated, len(report.batch_ids), len(report.awaiting_redelivery),
    )
    return report


def reinstate_quarantined(
    settings: Settings, work: Path, *, now: datetime, path: str | None = None, rule: str | None = None
) -> ReplayReport:
    """The flow step: ``reinstate`` on the working copy."""
    conn = connect_writer(work, settings)
    try:
        report = reinstate(conn, now=now, path=path, rule=rule)
        conn.execute("checkpoint")
    finally:
        conn.close()
    return report
