"""Content checksums of a warehouse's tables: prove a rebuild changed nothing (or show what did).

    journey sql "..."  is for looking; this is for comparing two builds:
    mart_checksums(path_a) == mart_checksums(path_b)
"""

from __future__ import annotations

from pathlib import Path

from journey.warehouse.connection import connect_reader


def table_checksums(path: Path, schema: str = "marts") -> dict[str, tuple[int, str]]:
    """(row count, md5 of the rows in sorted order) for every table of ``schema``, by table name.

    Row order does not matter (rows are sorted by their text form); any changed value, added or
    missing row changes the checksum.
    """
    conn = connect_reader(path)
    try:
        tables = [row[0] for row in conn.execute(
            "select table_name from information_schema.tables where table_schema = ? and table_type = 'BASE TABLE' "
            "order by table_name", [schema],
        ).fetchall()]
        sums: dict[str, tuple[int, str]] = {}
        for table in tables:
            row = conn.execute(
                f'select count(*), coalesce(md5(string_agg(t::varchar, chr(10) order by t::varchar)), \'\') '
                f'from {schema}."{table}" as t'
            ).fetchone()
            assert row is not None
            sums[table] = (int(row[0]), str(row[1]))
        return sums
    finally:
        conn.close()
