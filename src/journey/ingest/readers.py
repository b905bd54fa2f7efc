"""Pure readers: a landed file → an Arrow table with its physical row numbers. No database here.

* ``detect_encoding``: UTF-8 expected; GB18030 (common in Chinese hospital exports) is detected and
  decoded; anything else is refused with the reason.
* ``read_lines``: NDJSON/JSONL as (``_row_number``, ``line``), streamed in chunks, vectorised with
  Arrow (no Python loop per line). Blank lines are not rows; numbering stays physical.
* ``read_csv``: CSV with a header as text columns + ``_row_number`` (data row, header excluded);
  rows with the wrong number of fields come back separately with their row numbers.
"""

from __future__ import annotations

import codecs
import csv
import itertools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import AnyStr

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

_CHUNK = 16 << 20
_CANDIDATES = ("utf-8", "gb18030")


class UnreadableFile(Exception):
    """The file cannot be decoded or parsed at all; ``reason`` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def detect_encoding(path: Path) -> str:
    """The first of UTF-8, GB18030 that decodes the whole file strictly (streamed)."""
    for encoding in _CANDIDATES:
        decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
        try:
            with path.open("rb") as handle:
                while chunk := handle.read(_CHUNK):
                    decoder.decode(chunk)
                decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            continue
        return encoding
    raise UnreadableFile("not valid UTF-8 nor GB18030 text")


def _blank(lines: pa.Array) -> np.ndarray:
    """True for the empty or whitespace-only lines. Only lines that are empty or start with whitespace
    are trimmed (NDJSON lines start with ``{``: the text is not copied for the other lines)."""
    candidate = pc.or_(pc.equal(pc.binary_length(lines), 0), pc.utf8_is_space(pc.utf8_slice_codeunits(lines, 0, 1)))
    blank = candidate.to_numpy(zero_copy_only=False).copy()
    (where,) = np.nonzero(blank)
    if len(where):
        trimmed = pc.utf8_length(pc.utf8_trim_whitespace(lines.take(pa.array(where))))
        blank[where] = trimmed.to_numpy(zero_copy_only=False) == 0
    return blank


def _split_chunk(text: str | bytes, first_row: int) -> tuple[pa.Table, int]:
    """``text`` (a str, or bytes already validated as UTF-8) split into its lines, ``\r`` trimmed."""
    whole = pa.array([text]) if isinstance(text, str) else pa.array([text], pa.binary()).cast(pa.string())
    lines = pc.list_flatten(pc.split_pattern(whole, "\n"))
    if pc.any(pc.ends_with(lines, "\r")).as_py():
        lines = pc.utf8_rtrim(lines, characters="\r")
    numbers = pa.array(np.arange(first_row, first_row + len(lines), dtype=np.int64))
    table = pa.table({"_row_number": numbers, "line": lines})
    return table.filter(pa.array(~_blank(lines))), first_row + len(lines)


def read_lines(path: Path, encoding: str) -> Iterator[pa.Table]:
    """Yield Arrow tables of (``_row_number``, ``line``) for the non-blank lines, in file order.

    ``encoding`` is what ``detect_encoding`` found: a UTF-8 file is split as bytes (no decoding to
    Python text and back; a newline byte never occurs inside a UTF-8 sequence)."""
    next_row = 1
    with path.open("rb") as handle:
        chunks = iter(lambda: handle.read(_CHUNK), b"")
        if encoding == "utf-8":
            pieces: Iterator[str | bytes] = _whole_lines(chunks, b"\n")
        else:
            decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
            decoded = itertools.chain((decoder.decode(chunk) for chunk in chunks), [decoder.decode(b"", final=True)])
            pieces = _whole_lines(decoded, "\n")
        for text in pieces:
            table, next_row = _split_chunk(text, next_row)
            yield table


def _whole_lines(chunks: Iterable[AnyStr], newline: AnyStr) -> Iterator[AnyStr]:
    """``chunks`` regrouped into runs of whole lines (each without its final newline)."""
    pending = newline[:0]
    for chunk in chunks:
        data = pending + chunk
        cut = data.rfind(newline)
        if cut < 0:
            pending = data
            continue
        pending = data[cut + 1 :]
        yield data[:cut]
    if pending:
        yield pending


@dataclass(frozen=True)
class CsvRead:
    """A parsed CSV: good rows, malformed rows, and what the header said."""

    rows: pa.Table
    malformed: pa.Table
    header: tuple[str, ...]


def read_csv(path: Path, encoding: str, columns: tuple[str, ...]) -> CsvRead:
    """Parse a CSV with a header into text ``columns`` (missing optional ones are null).

    Rows whose field count differs from the header are returned in ``malformed`` with their data
    row number and raw text. Raises UnreadableFile when the header lacks a required contract column
    or the file is empty.
    """
    with path.open("rb") as handle:
        head = handle.readline().decode(encoding).lstrip("\ufeff")
    if not head.strip():
        raise UnreadableFile("empty file (no header row)")
    header = tuple(name.strip() for name in next(csv.reader([head])))
    bad: list[tuple[int, str]] = []

    def on_invalid(row: pacsv.InvalidRow) -> str:
        # number is the physical line (header = 1) when reading single-threaded.
        bad.append(((row.number or 0) - 1, row.text or ""))
        return "skip"

    table = pacsv.read_csv(
        path,
        read_options=pacsv.ReadOptions(encoding=encoding, use_threads=False, block_size=_CHUNK),
        parse_options=pacsv.ParseOptions(invalid_row_handler=on_invalid, newlines_in_values=False),
        convert_options=pacsv.ConvertOptions(
            column_types=dict.fromkeys(header, pa.string()),
            strings_can_be_null=True,
            quoted_strings_can_be_null=False,
        ),
    )
    total = table.num_rows + len(bad)
    all_numbers = np.arange(1, total + 1, dtype=np.int64)
    good_numbers = np.setdiff1d(all_numbers, np.array([n for n, _ in bad], dtype=np.int64))
    out = {"_row_number": pa.array(good_numbers)}
    # strip a BOM that pyarrow keeps on the first header name
    names = [name.lstrip("\ufeff").strip() for name in table.column_names]
    table = table.rename_columns(names)
    for column in columns:
        out[column] = table[column] if column in names else pa.nulls(table.num_rows, pa.string())
    malformed = pa.table(
        {
            "_row_number": pa.array([n for n, _ in bad], type=pa.int64()),
            "line": pa.array([text for _, text in bad], type=pa.string()),
        }
    )
    return CsvRead(rows=pa.table(out), malformed=malformed, header=tuple(names))


def sniff_text(path: Path, encoding: str, size: int = 4096) -> str:
    """The first characters of a file (for messages)."""
    with open(path, encoding=encoding, errors="replace") as handle:
        return handle.read(size)


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
