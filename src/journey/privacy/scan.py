"""Prove it: search a warehouse and files for known identifiers ("needles") and report every hit.

The demo generator records every identity it planted (``generator/identities.parquet``: names,
phones, resident IDs, e-mails, addresses, birth dates, MRNs, EHR patient ids); a hospital can write its
own needles file from a sample of real identities. The scan then looks for each needle

* in **every column of every table and view of every schema** of a DuckDB warehouse (each value cast to
  text, JSON included), and
* in **every file** under the given folders (logs, dbt target and logs, the docs site, Prefect's home),
  read as UTF-8 with undecodable bytes replaced, line by line.

Needles are matched as they are really written: case-insensitively and after Unicode NFKC (full-width
digits and letters count), any run of spaces as one, phone and ID numbers with spaces, dots or dashes
anywhere between their digits, birth dates as ``1952-04-09``, ``1952/4/9``, ``1952年4月9日`` or
``19520409``. Every written form of every needle goes into one Aho-Corasick automaton (pyahocorasick), so
each value is read once whatever the number of needles.
"""

from __future__ import annotations

import bisect
import csv
import hashlib
import logging
import re
import time
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import ahocorasick
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
_SAMPLE_CHARS = 60
_FILE_BATCH_LINES = 50_000
_BATCH_VALUES = 500_000
_SKIPPED_TYPES = ("BOOLEAN",)
_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
#: Values are joined with this (never part of a form) and matched as one string per batch.
_ROW = "\x00"
#: Folding: any whitespace run is one space; date and number separators are one dash.
_SPACES = re.compile(r"[^\S\x00]+")
_DASHES = str.maketrans({"/": "-", ".": "-"})
_UNDASH = str.maketrans({" ": None, "-": None})


@dataclass(frozen=True)
class Needle:
    """One known identifier to look for."""

    kind: str
    value: str

    def forms(self) -> list[tuple[str, str]]:
        """(view, folded form) pairs: the ways this needle is written, folded like the text they are
        searched in. View ``digits`` is the text with spaces and dashes removed; ``text`` is the rest.
        Date forms carry an edge rule: ``date`` (no digit after), ``compact`` (no letter or digit around)."""
        value = fold(self.value.strip())
        if self.kind in _DIGITS:
            return [("digits", value.translate(_UNDASH))]
        match = _DATE.match(value) if self.kind == "birth_date" else None
        if match is None:
            return [("text" if self.kind == "secret" else "word", value)]
        year, month, day = match.groups()
        months, days = {month, str(int(month))}, {day, str(int(day))}
        forms = [("date", f"{year}-{m}-{d}") for m in sorted(months) for d in sorted(days)]
        forms += [("text", f"{year}年{m}月{d}日") for m in sorted(months) for d in sorted(days)]
        return [*forms, ("compact", f"{year}{month}{day}")]


def fold(text: str) -> str:
    """Text as the scan compares it: NFKC (full-width forms), lower case, spaces collapsed, ``/`` and
    ``.`` as ``-`` (one position per character kept, so edges can still be checked)."""
    return _SPACES.sub(" ", unicodedata.normalize("NFKC", text).lower()).translate(_DASHES)


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
def _word(char: str) -> bool:
    return char.isascii() and char.isalnum()


#: Edge rules by form view (``before``/``after`` are "" at a value's edge).
_EDGE_OK: dict[str, Callable[[str, str, str, str], bool]] = {
    "date": lambda before, first, last, after: not after.isdigit(),
    "compact": lambda before, first, last, after: not (before.isalnum() or after.isalnum()),
    # A Latin word or number does not continue into letters or digits ("na hu" in "mokuaina hui").
    "word": lambda before, first, last, after: not (_word(first) and _word(before) or _word(last) and _word(after)),
}


class _Matcher:
    """Every form of every needle in two Aho-Corasick automata: one over the folded text, one over
    the folded text without spaces and dashes (numbers written in groups)."""

    def __init__(self, needles: Sequence[Needle]) -> None:
        forms: dict[str, dict[str, list[tuple[Needle, str]]]] = {}
        for needle in needles:
            for view, form in needle.forms():
                automaton = "digits" if view == "digits" else "text"
                forms.setdefault(automaton, {}).setdefault(form, []).append((needle, view))
        self.automata: dict[str, ahocorasick.Automaton] = {}
        for name, words in forms.items():
            automaton = ahocorasick.Automaton()
            for form, entries in words.items():
                automaton.add_word(form, (len(form), entries))
            automaton.make_automaton()
            self.automata[name] = automaton

    def hits(self, values: Sequence[str]) -> Iterator[tuple[int, Needle, str]]:
        """(row index, needle, the row's folded text around the match) for each needle in each value."""
        text = fold(_ROW.join(values))
        for name, automaton in self.automata.items():
            haystack = text.translate(_UNDASH) if name == "digits" else text
            ends: list[int] = []
            found: set[tuple[int, Needle]] = set()
            for end, (length, entries) in automaton.iter(haystack):
                start = end - length + 1
                if not ends:
                    ends = [m.start() for m in re.finditer(_ROW, haystack)] + [len(haystack)]
                row = bisect.bisect_left(ends, start)
                first, last = (ends[row - 1] + 1 if row else 0), ends[row]
                before, after = haystack[start - 1] if start > first else "", haystack[end + 1 : end + 2]
                for needle, view in entries:
                    edge_ok = _EDGE_OK.get(view)
                    edges = (before, haystack[start], haystack[end], after.replace(_ROW, ""))
                    if (edge_ok and not edge_ok(*edges)) or (row, needle) in found:
                        continue
                    found.add((row, needle))
                    yield row, needle, haystack[max(start - _SAMPLE_CHARS, first) : min(end + 1 + _SAMPLE_CHARS, last)]


class _Scanner:
    """Values as (where, column, text), matched in batches: one automaton pass per batch."""

    def __init__(self, needles: Sequence[Needle]) -> None:
        self.matcher = _Matcher(needles)
        self.rows: dict[tuple[str, str, str, str], int] = {}
        self.samples: dict[tuple[str, str, str, str], str] = {}

    def add(self, where: Sequence[str], columns: Sequence[str], values: Sequence[str]) -> None:
        for row, needle, sample in self.matcher.hits(values):
            key = (where[row], columns[row], needle.kind, needle.value)
            self.rows[key] = self.rows.get(key, 0) + 1
            self.samples.setdefault(key, sample)

    def leaks(self) -> list[Leak]:
        return [Leak(*key, count, self.samples[key]) for key, count in sorted(self.rows.items())]


# --------------------------------------------------------------------------------------------------
# warehouse and files
# --------------------------------------------------------------------------------------------------
def _add_warehouse(
    scanner: _Scanner, conn: duckdb.DuckDBPyConnection, report: ScanReport, schemas: Iterable[str] | None
) -> None:
    wanted = sorted(set(schemas)) if schemas is not None else None
    columns = conn.execute(
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
            _add_relation(scanner, conn, schema, table, names)


def _add_relation(
    scanner: _Scanner, conn: duckdb.DuckDBPyConnection, schema: str, table: str, columns: Sequence[str]
) -> None:
    """Every non-null value of ``columns`` of one table or view (a view is computed once)."""
    relation = f"{quote_identifier(schema)}.{quote_identifier(table)}"
    casts = ", ".join(f"cast({quote_identifier(c)} as varchar) as {quote_identifier(c)}" for c in columns)
    where = f"{schema}.{table}"
    reader = conn.execute(
        f"select _col, _val from (unpivot (select {casts} from {relation}) on columns(*) into name _col value _val)"
    ).fetch_record_batch(_BATCH_VALUES)
    for batch in reader:
        values = batch.column(1).to_pylist()
        scanner.add([where] * len(values), batch.column(0).to_pylist(), values)


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
    numbers: list[str] = []
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
            numbers.append(f"line {number}")
            lines.append(line.replace(_ROW, " "))
        if len(lines) >= _FILE_BATCH_LINES:
            scanner.add(where, numbers, lines)
            report.lines += len(lines)
            where, numbers, lines = [], [], []
    if lines:
        scanner.add(where, numbers, lines)
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
        scanner = _Scanner(needles)
        if warehouse is not None:
            _add_warehouse(scanner, conn, report, schemas)
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
