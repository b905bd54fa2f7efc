"""Pure readers: a landed file → Arrow tables with their record numbers. No database here.

* ``open_bytes``: the file's bytes, gzip-decompressed on the fly when it starts with the gzip magic
  bytes ``1f 8b`` (whatever its name): bulk exports gzip by default. Never read whole into memory.
* ``detect_encoding``: decodes only with evidence — a byte-order mark (UTF-8, UTF-16), else a
  strict decode of the whole file as UTF-8, else a strict decode as GB18030 that also passes
  ``plausible_gb18030`` (GB18030 decodes almost any byte string, Latin-1, Big5 and Shift-JIS
  included, into rare characters). Anything else is refused naming the encodings tried.
* ``read_lines``: NDJSON/JSONL as (``_row_number``, ``line``, ``rule``), streamed in chunks,
  vectorised with Arrow. Blank lines are not rows; numbering stays physical. A line longer than
  ``ReadLimits.max_line_bytes`` or nested deeper than ``ReadLimits.max_json_depth`` comes back with
  its ``rule`` (``line_too_long``, ``too_deeply_nested``) and is never given to a JSON parser.
* ``open_csv_records``: CSV with a header, streamed batch by batch as text columns. Rows are
  records as RFC 4180 defines them (a quoted value may hold line breaks); ``rows_read`` counts
  records, not lines. A header that repeats a name, or a quote left open that swallows the records
  after it, refuses the file.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

_CHUNK = 16 << 20
GZIP_MAGIC = b"\x1f\x8b"
#: Every encoding detection tries, in this order (a BOM decides before any of them).
TRIED = "BOM (UTF-8, UTF-16), UTF-8, GB18030 (with a plausibility check)"


class UnreadableFile(Exception):
    """The file cannot be decoded or parsed at all; ``reason`` says why, ``rule`` names the rule."""

    def __init__(self, reason: str, rule: str = "unreadable_file") -> None:
        super().__init__(reason)
        self.reason = reason
        self.rule = rule


@dataclass(frozen=True)
class ReadLimits:
    """How files are read: the limits enforced on every line before a JSON parser sees it, and the
    encodings sites declare per source (Settings: JOURNEY_MAX_LINE_BYTES, JOURNEY_MAX_JSON_DEPTH,
    JOURNEY_SOURCE_ENCODINGS)."""

    max_line_bytes: int = 16 << 20
    max_json_depth: int = 64
    source_encodings: dict[str, str] = field(default_factory=dict)


# --------------------------------------------------------------------------------------------------
# bytes
# --------------------------------------------------------------------------------------------------
def is_gzip(path: Path) -> bool:
    with path.open("rb") as handle:
        return handle.read(2) == GZIP_MAGIC


@contextmanager
def open_bytes(path: Path) -> Iterator[BinaryIO]:
    """The file's (decompressed) bytes. A corrupt or truncated gzip raises UnreadableFile
    (``corrupt_gzip``) when the damaged part is read."""
    handle: BinaryIO = gzip.open(path, "rb") if is_gzip(path) else path.open("rb")  # type: ignore[assignment]
    try:
        with handle:
            yield handle
    except (gzip.BadGzipFile, EOFError, zlib.error) as error:
        raise UnreadableFile(f"corrupt or truncated gzip ({error})", "corrupt_gzip") from error


def byte_chunks(path: Path, size: int | None = None) -> Iterator[bytes]:
    with open_bytes(path) as handle:
        while chunk := handle.read(size or _CHUNK):
            yield chunk


# --------------------------------------------------------------------------------------------------
# encodings
# --------------------------------------------------------------------------------------------------
@lru_cache(maxsize=1)
def _gb2312_classes() -> tuple[str, str, str]:
    """RE2 character classes of GB2312's level-1 hanzi (the 3,755 common ones), level-2 hanzi, and
    its punctuation / full-width rows (A1-A3): what genuine simplified-Chinese text is made of."""

    def chars(rows: range) -> str:
        out = []
        for lead in rows:
            for trail in range(0xA1, 0xFF):
                try:
                    out.append(bytes([lead, trail]).decode("gb2312"))
                except UnicodeDecodeError:
                    continue
        return "".join(out)

    def klass(text: str) -> str:
        return "[" + "".join(f"\\x{{{ord(ch):x}}}" for ch in sorted(set(text))) + "]"

    return klass(chars(range(0xB0, 0xD8))), klass(chars(range(0xD8, 0xF8))), klass(chars(range(0xA1, 0xA4)))


@dataclass
class _Plausibility:
    non_ascii: int = 0
    level1: int = 0
    level2: int = 0
    symbols: int = 0

    def add(self, text: str) -> None:
        array = pa.array([text])
        level1, level2, symbols = _gb2312_classes()
        self.non_ascii += pc.count_substring_regex(array, r"[^\x00-\x7f]")[0].as_py()
        self.level1 += pc.count_substring_regex(array, level1)[0].as_py()
        self.level2 += pc.count_substring_regex(array, level2)[0].as_py()
        self.symbols += pc.count_substring_regex(array, symbols)[0].as_py()

    def verdict(self) -> str | None:
        """None if the text reads as Chinese, else why not."""
        if not self.non_ascii:
            return None
        common = (self.level1 + self.level2 + self.symbols) / self.non_ascii
        if common < 0.98:
            return f"only {common:.0%} of its non-ASCII characters are common Chinese characters or punctuation"
        hanzi = self.level1 + self.level2
        if hanzi >= 10 and self.level1 / hanzi < 0.8:
            return f"{self.level2 / hanzi:.0%} of its Chinese characters are rare ones (level 2 of GB2312)"
        return None


@dataclass
class _TextShape:
    """UTF-16 decodes any even number of bytes: the text must also look like CSV/NDJSON, whose
    structure (delimiters, quotes, braces, line breaks) is ASCII."""

    chars: int = 0
    ascii: int = 0
    newlines: int = 0

    def add(self, text: str) -> None:
        array = pa.array([text])
        self.chars += len(text)
        self.ascii += pc.count_substring_regex(array, r"[\x09\x0a\x0d\x20-\x7e]")[0].as_py()
        self.newlines += text.count("\n")

    def verdict(self) -> str | None:
        if self.chars and (self.ascii < 0.3 * self.chars or (self.chars > 200 and not self.newlines)):
            return f"only {self.ascii / self.chars:.0%} of its characters are ASCII text, not a CSV or NDJSON file"
        if self.chars and not self.newlines and self.ascii < self.chars:
            return "no line break and non-ASCII text: not a CSV or NDJSON file"
        return None


def plausible_gb18030(text: str) -> str | None:
    """None if ``text`` (decoded as GB18030) reads as Chinese text, else why not.

    Genuine simplified-Chinese text is made of GB2312's 3,755 common (level-1) hanzi, a few rarer
    ones and its punctuation and full-width forms. Latin-1, Big5 or Shift-JIS bytes decoded as
    GB18030 give characters outside GB2312 (a Latin-1 letter before an ASCII one, a Big5 or
    Shift-JIS trail byte below 0xA1), kana or Cyrillic (GB2312 rows A4-A7), or level-1 and level-2
    hanzi at random (about as many of each). Rules: at least 98 % of the non-ASCII characters are
    GB2312 hanzi or punctuation (rows A1-A3, B0-F7), and of ten or more hanzi at least 80 % are
    level 1.
    """
    check = _Plausibility()
    check.add(text)
    return check.verdict()


def _strict_decode(path: Path, encoding: str, check: _Plausibility | _TextShape | None = None) -> str | None:
    """None if the whole file decodes strictly as ``encoding``, else where it fails."""
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    offset = 0
    try:
        for chunk in byte_chunks(path):
            text = decoder.decode(chunk)
            if check is not None:
                check.add(text)
            offset += len(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError as error:
        return f"invalid {encoding.upper()} at byte {offset + error.start}"
    return None


def detect_encoding(path: Path, declared: str | None = None) -> str:
    """The file's encoding, decided only with evidence (see the module docstring); UnreadableFile
    (``unknown_encoding``) naming the encodings tried otherwise. ``declared``: the encoding the site
    declared for the file's source (a BOM still wins); the whole file must decode strictly in it."""
    with open_bytes(path) as handle:
        head = handle.read(4)
    if declared and not head.startswith((codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        failure = _strict_decode(path, declared)
        if failure is None:
            return declared
        raise UnreadableFile(f"not in the declared encoding {declared} (JOURNEY_SOURCE_ENCODINGS): {failure}",
                             "unknown_encoding")
    if head.startswith(codecs.BOM_UTF8):
        failure = _strict_decode(path, "utf-8")
        if failure is None:
            return "utf-8"
        raise UnreadableFile(f"has a UTF-8 byte-order mark but is not UTF-8 ({failure})", "unknown_encoding")
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        shape = _TextShape()
        failure = _strict_decode(path, "utf-16", shape) or shape.verdict()
        if failure is None:
            return "utf-16"
        raise UnreadableFile(f"has a UTF-16 byte-order mark but is not UTF-16 ({failure})", "unknown_encoding")
    utf8 = _strict_decode(path, "utf-8")
    if utf8 is None:
        return "utf-8"
    check = _Plausibility()
    gb = _strict_decode(path, "gb18030", check)
    if gb is None:
        implausible = check.verdict()
        if implausible is None:
            return "gb18030"
        gb = f"decodes as GB18030 but {implausible} (Latin-1, Big5 or Shift-JIS?)"
    raise UnreadableFile(f"encoding not recognised; tried {TRIED}: {utf8}; {gb}", "unknown_encoding")


def text_chunks(path: Path, encoding: str) -> Iterator[str]:
    """The file decoded, chunk by chunk (a leading BOM removed)."""
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    first = True
    for chunk in byte_chunks(path):
        text = decoder.decode(chunk)
        if first and text:
            text, first = text.removeprefix("\ufeff"), False
        if text:
            yield text
    if tail := decoder.decode(b"", final=True):
        yield tail


# --------------------------------------------------------------------------------------------------
# lines (NDJSON / JSONL)
# --------------------------------------------------------------------------------------------------
def json_depth(text: str) -> int:
    """The deepest nesting of objects and arrays in ``text`` (brackets inside JSON strings, escaped
    quotes included, do not count). Vectorised over the line's bytes."""
    data = np.frombuffer(text.encode("utf-8"), dtype=np.uint8)
    if not data.size:
        return 0
    index = np.arange(data.size, dtype=np.int64)
    backslash = data == 0x5C
    last_plain = np.maximum.accumulate(np.where(backslash, -1, index))
    run_before = np.zeros(data.size, dtype=np.int64)
    run_before[1:] = index[:-1] - last_plain[:-1]  # backslashes right before each byte
    quote = (data == 0x22) & (run_before % 2 == 0)
    in_string = (np.cumsum(quote, dtype=np.int64) & 1).astype(bool)
    step = (((data == 0x7B) | (data == 0x5B)).astype(np.int32) - ((data == 0x7D) | (data == 0x5D)).astype(np.int32))
    step[in_string] = 0
    return int(np.cumsum(step, dtype=np.int64).max(initial=0))


def _line_rules(lines: pa.Array, limits: ReadLimits) -> pa.Array:
    """Per line: ``line_too_long``, ``too_deeply_nested`` or null. The depth is scanned only for the
    lines whose count of ``{``/``[`` exceeds the limit (it cannot be deeper than that count)."""
    too_long = pc.greater(pc.binary_length(lines), limits.max_line_bytes)
    rules: list[str | None] = [None] * len(lines)
    for position in np.flatnonzero(too_long.to_numpy(zero_copy_only=False)):
        rules[position] = "line_too_long"
    opens = pc.add(pc.count_substring(lines, "{"), pc.count_substring(lines, "["))
    candidates = pc.and_(pc.greater(opens, limits.max_json_depth), pc.invert(too_long))
    for position in np.flatnonzero(candidates.to_numpy(zero_copy_only=False)):
        if json_depth(lines[int(position)].as_py()) > limits.max_json_depth:
            rules[position] = "too_deeply_nested"
    return pa.array(rules, type=pa.string())


def _split_chunk(text: str, first_row: int, limits: ReadLimits) -> tuple[pa.Table, int]:
    lines = pc.list_flatten(pc.split_pattern(pa.array([text]), "\n"))
    lines = pc.utf8_rtrim(lines, characters="\r")
    numbers = pa.array(range(first_row, first_row + len(lines)), type=pa.int64())
    keep = pc.greater(pc.utf8_length(pc.utf8_trim_whitespace(lines)), 0)
    table = pa.table({"_row_number": numbers, "line": lines}).filter(keep)
    rules = _line_rules(table["line"].combine_chunks(), limits)
    return table.append_column("rule", rules), first_row + len(lines)


def _too_long(row: int) -> pa.Table:
    return pa.table({"_row_number": pa.array([row], pa.int64()), "line": pa.array([None], pa.string()),
                     "rule": pa.array(["line_too_long"])})


def read_lines(path: Path, encoding: str, limits: ReadLimits | None = None) -> Iterator[pa.Table]:
    """Yield Arrow tables of (``_row_number``, ``line``, ``rule``) for the non-blank lines, in file
    order. ``rule`` is null for a line to parse; a line over the size limit has a null ``line`` (it is
    never held whole in memory either)."""
    limits = limits or ReadLimits()
    pending = ""
    next_row = 1
    overflow = False  # inside a line already over the limit: drop its text up to the next newline
    for text in text_chunks(path, encoding):
        if overflow:
            first = text.find("\n")
            if first < 0:
                continue
            yield _too_long(next_row)
            next_row, overflow, text = next_row + 1, False, text[first + 1 :]
        text = pending + text
        cut = text.rfind("\n")
        if cut < 0:
            pending = text
            if len(pending) > limits.max_line_bytes:
                pending, overflow = "", True
            continue
        pending = text[cut + 1 :]
        table, next_row = _split_chunk(text[:cut], next_row, limits)
        yield table
    if overflow:
        yield _too_long(next_row)
    elif pending:
        table, _ = _split_chunk(pending, next_row, limits)
        yield table


# --------------------------------------------------------------------------------------------------
# CSV
# --------------------------------------------------------------------------------------------------
def _swallowed(value: str, fields: int) -> int:
    """Lines after the first of a value that hold a whole record's worth of delimiters: records an
    unterminated quote merged into this value (a quoted free-text value with line breaks has none)."""
    if fields < 2:
        return 0
    return sum(1 for line in value.split("\n")[1:] if line.count(",") >= fields - 1)


@dataclass
class CsvRecords:
    """A CSV being read: ``batches()`` streams the good records as text columns; after it,
    ``malformed`` holds (data row, text) of records with the wrong number of fields and
    ``row_numbers()`` the data row of each good record, in order."""

    path: Path
    encoding: str
    header: tuple[str, ...]
    columns: tuple[str, ...]
    has_data: bool
    malformed: list[tuple[int, str]] = field(default_factory=list)
    good: int = 0

    @property
    def records(self) -> int:
        """Data records read (good + malformed): rows_read, counted as the CSV format defines them."""
        return self.good + len(self.malformed)

    def row_numbers(self) -> np.ndarray:
        bad = np.array(sorted(number for number, _ in self.malformed), dtype=np.int64)
        return np.setdiff1d(np.arange(1, self.records + 1, dtype=np.int64), bad)

    def batches(self) -> Iterator[pa.Table]:
        if not self.has_data:
            return
        names = [f"c{index}" for index in range(len(self.header))]
        position = {name: index for index, name in enumerate(self.header)}
        fields = len(self.header)

        def on_invalid(row: pacsv.InvalidRow) -> str:
            # number counts records from 1 = the header when reading single-threaded
            self.malformed.append(((row.number or 0) - 1, row.text or ""))
            return "skip"

        with open_bytes(self.path) as handle:
            reader = pacsv.open_csv(
                handle,
                read_options=pacsv.ReadOptions(encoding=self.encoding, use_threads=False, block_size=_CHUNK,
                                               column_names=names, skip_rows=1),
                parse_options=pacsv.ParseOptions(invalid_row_handler=on_invalid, newlines_in_values=True),
                convert_options=pacsv.ConvertOptions(column_types=dict.fromkeys(names, pa.string()),
                                                     strings_can_be_null=True, quoted_strings_can_be_null=False),
            )
            for batch in reader:
                self._check_quotes(batch, fields)
                out = {
                    column: batch.column(position[column]) if column in position
                    else pa.nulls(batch.num_rows, pa.string())
                    for column in self.columns
                }
                self.good += batch.num_rows
                yield pa.table(out)
        for number, text in self.malformed:
            if swallowed := _swallowed(text, fields):
                raise _unterminated(number, swallowed)

    def _check_quotes(self, batch: pa.RecordBatch, fields: int) -> None:
        for index in range(batch.num_columns):
            values = batch.column(index)
            multiline = pc.fill_null(pc.match_substring(values, "\n"), False)
            for offset in np.flatnonzero(multiline.to_numpy(zero_copy_only=False)):
                if swallowed := _swallowed(values[int(offset)].as_py(), fields):
                    # the good record's data row: its place among good ones, plus malformed before it
                    good_index = self.good + int(offset) + 1
                    before = sorted(number for number, _ in self.malformed)
                    number = good_index
                    for bad in before:
                        if bad <= number:
                            number += 1
                    raise _unterminated(number, swallowed, self.header[index])


def _unterminated(number: int, swallowed: int, column: str | None = None) -> UnreadableFile:
    where = f"data row {number}" + (f", column {column}" if column else "")
    return UnreadableFile(
        f"unterminated quote: {where} runs over {swallowed} more line(s) that look like records of their own "
        "(a quote opened and never closed merges the records after it); fix the quoting and re-deliver",
        "unterminated_quote",
    )


def open_csv_records(path: Path, encoding: str, columns: tuple[str, ...]) -> CsvRecords:
    """A CSV with a header, ready to stream as text ``columns`` (missing optional ones are null).

    UnreadableFile when the file has no header row, or its header names a column twice
    (``duplicate_column``). A header-only file (with or without a final newline) has no records."""
    head = next(text_chunks(path, encoding), "")
    if not head.strip():
        raise UnreadableFile("empty file (no header row)", "no_header")
    first = next(csv.reader(io.StringIO(head[: 1 << 20])), [])
    header = tuple(name.strip() for name in first)
    seen: set[str] = set()
    for name in header:
        if name in seen:
            raise UnreadableFile(f"header names column {name!r} more than once", "duplicate_column")
        seen.add(name)
    # header only: the first chunk is the whole file and holds one line (pyarrow cannot skip a
    # header with no line break after it)
    rest = head.strip().split("\n", 1)
    has_data = len(rest) > 1 and bool(rest[1].strip()) or len(head) >= _CHUNK
    return CsvRecords(path, encoding, header, columns, has_data)


@dataclass(frozen=True)
class CsvRead:
    """A parsed CSV, whole: good rows, malformed rows, and what the header said (tests, small files)."""

    rows: pa.Table
    malformed: pa.Table
    header: tuple[str, ...]


def read_csv(path: Path, encoding: str, columns: tuple[str, ...]) -> CsvRead:
    """``open_csv_records`` read to the end into one table (``_row_number`` + ``columns``)."""
    records = open_csv_records(path, encoding, columns)
    schema = pa.schema([(column, pa.string()) for column in columns])
    rows = pa.Table.from_batches([], schema=schema)
    batches = list(records.batches())
    if batches:
        rows = pa.concat_tables(batches)
    rows = rows.add_column(0, "_row_number", pa.array(records.row_numbers()))
    malformed = pa.table({
        "_row_number": pa.array([n for n, _ in records.malformed], type=pa.int64()),
        "line": pa.array([text for _, text in records.malformed], type=pa.string()),
    })
    return CsvRead(rows=rows, malformed=malformed, header=records.header)


def sniff_text(path: Path, encoding: str, size: int = 4096) -> str:
    """The first characters of a file (for messages)."""
    return next(text_chunks(path, encoding), "")[:size]


def read_parquet(path: Path) -> pq.ParquetFile:
    """Open a Parquet file (its footer is read now: a truncated file fails here)."""
    return pq.ParquetFile(path)


def parquet_text_chunks(
    parquet: pq.ParquetFile, columns: tuple[str, ...], batch_rows: int = 100_000
) -> Iterator[pa.Table]:
    """Contract ``columns`` as text (absent ones null) plus ``_row_number`` (1-based within each chunk),
    chunk by chunk."""
    present = [column for column in columns if column in parquet.schema_arrow.names]
    for batch in parquet.iter_batches(batch_size=batch_rows, columns=present):
        out: dict[str, pa.Array] = {"_row_number": pa.array(range(1, batch.num_rows + 1), pa.int64())}
        for column in columns:
            if column in present:
                values = batch.column(column)
                out[column] = values if pa.types.is_string(values.type) else pc.cast(values, pa.string())
            else:
                out[column] = pa.nulls(batch.num_rows, pa.string())
        yield pa.table(out)
