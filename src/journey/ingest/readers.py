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
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

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


def _split_chunk(text: str, first_row: int) -> tuple[pa.Table, int]:
    lines = pc.list_flatten(pc.split_pattern(pa.array([text]), "\n"))
    lines = pc.utf8_rtrim(lines, characters="\r")
    numbers = pa.array(range(first_row, first_row + len(lines)), type=pa.int64())
    table = pa.table({"_row_number": numbers, "line": lines})
    keep = pc.greater(pc.utf8_length(pc.utf8_trim_whitespace(lines)), 0)
    return table.filter(keep), first_row + len(lines)


def read_lines(path: Path, encoding: str) -> Iterator[pa.Table]:
    """Yield Arrow tables of (``_row_number``, ``line``) for the non-blank lines, in file order."""
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    pending = ""
    next_row = 1
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            text = pending + decoder.decode(chunk)
            cut = text.rfind("\n")
            if cut < 0:
                pending = text
                continue
            pending = text[cut + 1 :]
            table, next_row = _split_chunk(text[:cut], next_row)
            yield table
        pending += decoder.decode(b"", final=True)
    if pending:
        table, _ = _split_chunk(pending, next_row)
        yield table


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
