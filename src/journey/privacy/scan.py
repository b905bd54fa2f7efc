"""Prove it: search a warehouse and files for known identifiers ("needles") and report every hit.

The demo generator records every identity it planted (``generator/identities.parquet``: names,
phones, resident IDs, e-mails, addresses, birth dates, MRNs, EHR patient ids); a hospital can write its
own needles file from a sample of real identities. The scan then looks for each needle

* in **every column of every table and view of every schema** of a DuckDB warehouse (each value cast to
  text, JSON included), and
* in **every file** under the given folders (logs, dbt target and logs, the docs site, Prefect's home),
  read as UTF-8 with undecodable bytes replaced, line by line.

Needles are matched as they are really written: case-insensitively, phone and ID numbers with optional
spaces, dots or dashes between digits, birth dates as ``1952-04-09``, ``1952/4/9``, ``1952年4月9日`` or
``19520409``. All needles are compiled into a few RE2 alternations, so each column is read once whatever
the number of needles; only the rows that hit are joined back to the needles to say which one.
"""

from __future__ import annotations

import csv
import hashlib
import logging
import re
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from journey.config import Settings
from journey.privacy.identifiers import quote_identifier

log = logging.getLogger(__name__)

#: identities.parquet column → needle kind.
IDENTITY_COLUMNS: dict[str, str] = {
    "patient_id": "patient_id",
    "name_zh": "name",
    "name_en": "name",
    "display_name": "name",
    "contact_name": "name",
    "phone": "phone",
    "contact_phone": "phone",
    "email": "email",
    "national_id": "national_id",
    "mrn": "mrn",
    "address_line": "address",
    "birth_date": "birth_date",
}
KINDS: tuple[str, ...] = (
    "name", "phone", "national_id", "email", "address", "birth_date", "mrn", "patient_id", "secret", "text",
)
_DIGITS = ("phone", "national_id")
#: Where people put a space, dot or dash in a number: 138 1234 5678; 310104 1952 0409 6849 (or 6-8-4).
_GROUPS = {("phone", 11): (3, 7), ("national_id", 18): (6, 10, 14), ("national_id", 15): (6, 12)}
_SEPARATOR = r"[ \-.]?"
#: Each group of needle kinds is one alternation (RE2 keeps each a small DFA; mixing digit runs
#: with optional separators and anchored dates in one alternation makes it fall back to its slow NFA).
_KIND_GROUP = {"phone": "digits", "national_id": "digits", "birth_date": "dates"}
_CHUNK_NEEDLES = 1000
_SAMPLE_CHARS = 60
_FILE_BATCH_LINES = 50_000
_BATCH_VALUES = 2_000_000
_SKIPPED_TYPES = ("BOOLEAN",)
_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")


@dataclass(frozen=True)
class Needle:
    """One known identifier to look for."""

    kind: str
    value: str

    @property
    def pattern(self) -> str:
        return needle_pattern(self.kind, self.value)

    @property
    def anchor(self) -> str:
        """A lower-case literal every match contains (a cheap ``contains`` before the regex)."""
        value = self.value.strip().lower()
        if self.kind == "birth_date" and _DATE.match(value):
            return value[:4]
        if self.kind in _DIGITS:
            digits = "".join(c for c in value if c.isalnum())
            return digits[-4:]
        return max(value.split(), key=len) if value.split() else value


@dataclass(frozen=True)
class Leak:
    """A needle found: where (``schema.table`` or a file path), which column (or line), and a sample."""

    where: str
    column: str
    kind: str
    needle: str
    rows: int
    sample: str

    def __str__(self) -> str:
        return f"{self.where} [{self.column}]: {self.kind} {self.needle!r} in {self.rows} row(s), e.g. {self.sample!r}"


@dataclass
class ScanReport:
    """What a scan looked at and what it found."""

    needles: int = 0
    tables: int = 0
    columns: int = 0
    files: int = 0
    lines: int = 0
    seconds: float = 0.0
    leaks: list[Leak] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not self.leaks

    def summary(self, limit: int = 50) -> str:
        head = (
            f"privacy scan: {self.needles} needles over {self.tables} tables ({self.columns} columns) and "
            f"{self.files} files ({self.lines} lines) in {self.seconds:.1f}s: "
        )
        if self.clean:
            return head + "no identifier found"
        lines = [head + f"{len(self.leaks)} leak(s)"]
        lines += [f"  {leak}" for leak in self.leaks[:limit]]
        if len(self.leaks) > limit:
            lines.append(f"  … and {len(self.leaks) - limit} more")
        return "\n".join(lines)


# --------------------------------------------------------------------------------------------------
# needles
# --------------------------------------------------------------------------------------------------
def _literal(text: str) -> str:
    """RE2 for ``text`` as written: ASCII punctuation escaped, any run of spaces as ``\\s+``."""
    out: list[str] = []
    for char in text:
        if char.isspace():
            if not out or out[-1] != r"\s+":
                out.append(r"\s+")
        elif char.isascii() and not char.isalnum():
            out.append("\\" + char)
        else:
            out.append(char)
    return "".join(out)


def _date_pattern(value: str) -> str:
    match = _DATE.match(value)
    if not match:
        return _literal(value)
    year, month, day = match.groups()
    m, d = f"0?{int(month)}", f"0?{int(day)}"
    separated = rf"{year}[-/.]{m}[-/.]{d}(?:[^0-9]|$)"
    chinese = rf"{year}年{m}月{d}日"
    compact = rf"(?:^|[^0-9a-z]){year}{month}{day}(?:[^0-9a-z]|$)"
    return f"{separated}|{chinese}|{compact}"


def _grouped_digits(kind: str, value: str) -> str:
    chars = "".join(c for c in value if c.isalnum())
    cuts = _GROUPS.get((kind, len(chars)), ())
    parts = [chars[a:b] for a, b in zip((0, *cuts), (*cuts, len(chars)), strict=True)]
    return _SEPARATOR.join(_literal(part) for part in parts)


def needle_pattern(kind: str, value: str) -> str:
    """The RE2 pattern that finds ``value`` the ways it is really written, in lower-cased text.

    (Lower-casing the text beats RE2's ``(?i)``, which turns every class into a large Unicode set.)
    """
    value = value.strip().lower()
    if kind in _DIGITS:
        return _grouped_digits(kind, value)
    if kind == "birth_date":
        return _date_pattern(value)
    return _literal(value)


def needles_from_identities(
    table: pa.Table, *, birth_dates_before: date | None = None, min_length: int = 2
) -> list[Needle]:
    """Needles from a table shaped like the generator's ``identities.parquet`` (any subset of columns).

    ``birth_dates_before`` drops birth dates on or after that day: a newborn's birth date is also an
    ordinary event date in the data (an admission, a booking), so it proves nothing.
    """
    found: dict[tuple[str, str], Needle] = {}
    for column, kind in IDENTITY_COLUMNS.items():
        if column not in table.column_names:
            continue
        for value in table[column].to_pylist():
            if value is None:
                continue
            text = str(value).strip()
            if len(text) < min_length:
                continue
            if kind == "birth_date" and birth_dates_before is not None:
                try:
                    if date.fromisoformat(text[:10]) >= birth_dates_before:
                        continue
                except ValueError:
                    pass
            found.setdefault((kind, text), Needle(kind, text))
    return list(found.values())


def secret_needles(key: bytes) -> list[Needle]:
    """The secret itself and the two HMAC pads derived from it (either one is as good as the key)."""
    from journey.ingest.pseudonymise import _pads

    inner, outer = _pads(key)
    return [Needle("secret", key.decode("utf-8", "replace")), Needle("secret", inner), Needle("secret", outer)]


def load_needles(path: Path, *, birth_dates_before: date | None = None) -> list[Needle]:
    """Needles from a file: the generator's ``identities.parquet``, or a CSV / Parquet / JSONL with
    columns ``kind`` and ``value`` (kind one of KINDS; ``text`` = match literally)."""
    if path.suffix == ".parquet":
        table = pq.read_table(path)
    elif path.suffix in (".jsonl", ".ndjson", ".json"):
        import pyarrow.json as pajson

        table = pajson.read_json(path)
    else:
        with path.open(encoding="utf-8", newline="") as handle:
            rows = list(csv.DictReader(handle))
        table = pa.Table.from_pylist(rows) if rows else pa.table({"kind": [], "value": []})
    if {"kind", "value"} <= set(table.column_names):
        needles = []
        for kind, value in zip(table["kind"].to_pylist(), table["value"].to_pylist(), strict=True):
            if value is None or not str(value).strip():
                continue
            kind = str(kind or "text")
            if kind not in KINDS:
                raise ValueError(f"{path}: unknown needle kind {kind!r} (expected one of {', '.join(KINDS)})")
            needles.append(Needle(kind, str(value).strip()))
        return needles
    if not set(IDENTITY_COLUMNS) & set(table.column_names):
        raise ValueError(
            f"{path}: expected columns kind,value or identity columns ({', '.join(IDENTITY_COLUMNS)})"
        )
    return needles_from_identities(table, birth_dates_before=birth_dates_before)


# --------------------------------------------------------------------------------------------------
# matching
# --------------------------------------------------------------------------------------------------
def _sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _alternations(needles: Sequence[Needle]) -> list[str]:
    """A few RE2 alternations covering every needle, one per group of kinds (chunked)."""
    by_group: dict[str, set[str]] = {}
    for needle in needles:
        by_group.setdefault(_KIND_GROUP.get(needle.kind, "literal"), set()).add(needle.pattern)
    out = []
    for group in sorted(by_group):
        patterns = sorted(by_group[group])
        out += [
            "(?:" + "|".join(patterns[i : i + _CHUNK_NEEDLES]) + ")" for i in range(0, len(patterns), _CHUNK_NEEDLES)
        ]
    return out


def _sample(value: str, pattern: str) -> str:
    try:
        match = re.search(pattern, value.lower())
    except re.error:
        match = None
    if match is None:
        return value[: 2 * _SAMPLE_CHARS]
    start = max(match.start() - _SAMPLE_CHARS, 0)
    return value[start : match.end() + _SAMPLE_CHARS]


class _Scanner:
    """Collects values as (where, column, text) in a temp table and matches them in large batches.

    Batching matters: RE2 compiles each alternation once per query, which costs more than scanning a
    small table, so tables and files are pooled and matched together.
    """

    def __init__(self, conn: duckdb.DuckDBPyConnection, needles: Sequence[Needle]) -> None:
        self.conn = conn
        self.alternations = _alternations(needles)
        self.pending = 0
        conn.register(
            "_scan_needles_arrow",
            pa.table(
                {
                    "kind": [n.kind for n in needles],
                    "needle": [n.value for n in needles],
                    "pattern": ["(?:" + n.pattern + ")" for n in needles],
                    "anchor": [n.anchor for n in needles],
                }
            ),
        )
        conn.execute("create or replace temp table _scan_needles as select * from _scan_needles_arrow")
        conn.unregister("_scan_needles_arrow")
        for name in ("_scan_values", "_scan_hits"):
            conn.execute(f'create or replace temp table {name} ("where" varchar, col varchar, value varchar)')

    def add_relation(self, schema: str, table: str, columns: Sequence[str]) -> None:
        """Every non-null value of ``columns`` of one table or view (a view is computed once)."""
        relation = f"{quote_identifier(schema)}.{quote_identifier(table)}"
        casts = ", ".join(f"cast({quote_identifier(c)} as varchar) as {quote_identifier(c)}" for c in columns)
        row = self.conn.execute(
            f"""insert into _scan_values
                select {_sql_string(f"{schema}.{table}")}, _col, _val
                from (unpivot (select {casts} from {relation}) on columns(*) into name _col value _val)"""
        ).fetchone()
        self._added(int(row[0]) if row else 0)

    def add_lines(self, lines: pa.Table) -> None:
        """Arrow table (where, line_no, line)."""
        self.conn.register("_scan_lines", lines)
        self.conn.execute("""insert into _scan_values select "where", 'line ' || line_no, line from _scan_lines""")
        self.conn.unregister("_scan_lines")
        self._added(lines.num_rows)

    def _added(self, count: int) -> None:
        self.pending += count
        if self.pending >= _BATCH_VALUES:
            self.flush()

    def flush(self) -> None:
        if self.pending and self.alternations:
            # Literal patterns (not parameters): RE2 compiles each once per query, not once per row.
            matches = " or ".join(f"regexp_matches(lower(value), {_sql_string(p)})" for p in self.alternations)
            self.conn.execute(f"insert into _scan_hits select * from _scan_values where {matches}")
        self.conn.execute("truncate _scan_values")
        self.pending = 0

    def leaks(self) -> list[Leak]:
        """The hit rows joined back to the needles that hit them."""
        self.flush()
        rows = self.conn.execute(
            """select h."where", h.col, n.kind, n.needle, n.pattern, count(*) as n_rows, min(h.value) as sample
               from _scan_hits h join _scan_needles n
                 on contains(lower(h.value), n.anchor) and regexp_matches(lower(h.value), n.pattern)
               group by all order by 1, 2, 3, 4"""
        ).fetchall()
        return [
            Leak(where, column, kind, needle, int(count), _sample(sample, pattern))
            for where, column, kind, needle, pattern, count, sample in rows
        ]


# --------------------------------------------------------------------------------------------------
# warehouse and files
# --------------------------------------------------------------------------------------------------
def _add_warehouse(scanner: _Scanner, report: ScanReport, schemas: Iterable[str] | None) -> None:
    wanted = sorted(set(schemas)) if schemas is not None else None
    columns = scanner.conn.execute(
        """select table_schema, table_name, column_name, data_type from information_schema.columns
           where table_catalog = current_database()
             and table_schema not in ('information_schema', 'pg_catalog')
             and (?::varchar[] is null or list_contains(?::varchar[], table_schema))
           order by table_schema, table_name, ordinal_position""",
        [wanted, wanted],
    ).fetchall()
    by_table: dict[tuple[str, str], list[str]] = {}
    for schema, table, column, data_type in columns:
        names = by_table.setdefault((schema, table), [])
        if str(data_type).upper() not in _SKIPPED_TYPES:
            names.append(column)
    for (schema, table), names in by_table.items():
        report.tables += 1
        report.columns += len(names)
        if names:
            scanner.add_relation(schema, table, names)


def _files_under(paths: Iterable[Path]) -> Iterator[Path]:
    for path in paths:
        if path.is_file():
            yield path
        elif path.is_dir():
            yield from sorted(p for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def _add_files(scanner: _Scanner, report: ScanReport, paths: Iterable[Path]) -> None:
    """Every line of every file (UTF-8, bad bytes replaced: binary files are read too). A file with
    the same bytes as one already read (the docs site copies dbt's target) is read once."""
    seen: set[str] = set()
    where: list[str] = []
    numbers: list[int] = []
    lines: list[str] = []
    for file in _files_under(paths):
        report.files += 1
        data = file.read_bytes()
        digest = hashlib.sha256(data).hexdigest()
        if digest in seen:
            continue
        seen.add(digest)
        for number, line in enumerate(data.decode("utf-8", errors="replace").splitlines(), start=1):
            where.append(str(file))
            numbers.append(number)
            lines.append(line)
        if len(lines) >= _FILE_BATCH_LINES:
            scanner.add_lines(pa.table({"where": where, "line_no": numbers, "line": lines}))
            report.lines += len(lines)
            where, numbers, lines = [], [], []
    if lines:
        scanner.add_lines(pa.table({"where": where, "line_no": numbers, "line": lines}))
        report.lines += len(lines)


def scan(
    needles: Sequence[Needle],
    *,
    warehouse: Path | None = None,
    folders: Iterable[Path] = (),
    schemas: Iterable[str] | None = None,
) -> ScanReport:
    """Look for every needle in ``warehouse`` (every column but booleans of every table and view of
    ``schemas``, default all; opened read-only) and in every file under ``folders``."""
    started = time.perf_counter()
    report = ScanReport(needles=len(needles))
    if warehouse is not None and not warehouse.exists():
        raise FileNotFoundError(f"no warehouse at {warehouse}")
    conn = duckdb.connect(str(warehouse), read_only=True) if warehouse is not None else duckdb.connect()
    try:
        scanner = _Scanner(conn, needles)
        if warehouse is not None:
            _add_warehouse(scanner, report, schemas)
        _add_files(scanner, report, folders)
        report.leaks = scanner.leaks() if needles else []
    finally:
        conn.close()
    report.seconds = round(time.perf_counter() - started, 3)
    log.info(
        "privacy scan done",
        extra={"needles": report.needles, "tables": report.tables, "files": report.files,
               "leaks": len(report.leaks), "seconds": report.seconds},
    )
    return report


def data_dir_folders(settings: Settings) -> list[Path]:
    """Where a run writes besides the warehouse: logs, dbt target and logs, the docs site, Prefect's home."""
    return [settings.log_dir, settings.dbt_target_dir.parent, settings.site_dir, settings.prefect_home]
