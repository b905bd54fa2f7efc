"""Vectorised text building: numbers, timestamps and ids as Arrow string arrays, and line assembly.

A record is described as *groups* of segments (``("class", [',"class":{"code":"', codes, '"}'])``); a
segment is a literal ``str`` or an Arrow string array with one value per row. ``assemble`` joins them
with one Arrow kernel call, leaving out omitted groups (how a missing field is written). Fixed-width
values (timestamps, hex ids, zero-padded numbers) are built as byte matrices in numpy and wrapped as
Arrow arrays without copying. No Python code runs per row.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from functools import cache
from typing import TypeAlias

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from journey_demo.model import DAY, TZ_OFFSET

Seg: TypeAlias = str | pa.Array | pa.ChunkedArray
Group = tuple[str, Sequence[Seg]]

_M64 = np.uint64(0xFFFFFFFFFFFFFFFF)


def from_matrix(mat: np.ndarray) -> pa.StringArray:
    """An (n, width) uint8 matrix of ASCII bytes as an Arrow string array of n fixed-width values."""
    n, width = mat.shape
    offsets = np.arange(0, (n + 1) * width, width, dtype=np.int32)
    data = np.ascontiguousarray(mat, dtype=np.uint8)
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(data))


_DIGITS4 = np.array([b"%04d" % i for i in range(10_000)], dtype="S4")


@cache
def _time_of_day(suffix: str) -> np.ndarray:
    """``HH:MM:SS<suffix>`` for every second of a day (built once per suffix)."""
    t = np.arange(DAY, dtype=np.int64)
    width = 8 + len(suffix)
    mat = np.empty((DAY, width), dtype=np.uint8)
    put_digits(mat, 0, t // 3600, 2)
    mat[:, 2] = 58
    put_digits(mat, 3, t // 60 % 60, 2)
    mat[:, 5] = 58
    put_digits(mat, 6, t % 60, 2)
    if suffix:
        _put_text(mat, 8, suffix)
    return mat.view(f"S{width}").ravel()


def _bytes(values: np.ndarray, width: int) -> np.ndarray:
    """An ``S<width>`` array as an (n, width) uint8 matrix (no copy)."""
    return values.view(np.uint8).reshape(len(values), width)


def put_digits(mat: np.ndarray, col: int, values: np.ndarray, width: int) -> None:
    """Write zero-padded decimals, four digits at a time through a lookup table."""
    v = np.asarray(values, dtype=np.int64)
    end = col + width
    while end - col >= 4:
        mat[:, end - 4 : end] = _bytes(_DIGITS4[v % 10_000], 4)
        v = v // 10_000
        end -= 4
    if end > col:
        k = end - col
        mat[:, col:end] = _bytes(_DIGITS4[v % 10**k], 4)[:, 4 - k :]


def _put_text(mat: np.ndarray, col: int, text: str) -> None:
    raw = np.frombuffer(text.encode("ascii"), dtype=np.uint8)
    mat[:, col : col + len(raw)] = raw


def civil(days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(year, month, day) arrays for epoch days."""
    d64 = np.asarray(days, dtype=np.int64).astype("datetime64[D]")
    m64 = d64.astype("datetime64[M]")
    year = m64.astype("datetime64[Y]").astype(np.int64) + 1970
    month = m64.astype(np.int64) % 12 + 1
    dom = (d64 - m64.astype("datetime64[D]")).astype(np.int64) + 1
    return year, month, dom


def _day_strings(days: np.ndarray, suffix: bytes) -> np.ndarray:
    """``YYYY-MM-DD<suffix>`` per epoch day, formatted once per distinct day."""
    days = np.asarray(days, dtype=np.int64)
    width = 10 + len(suffix)
    if not len(days):
        return np.empty(0, dtype=f"S{width}")
    lo = int(days.min())
    span = int(days.max()) - lo + 1
    if span > 4 * len(days):
        unique, inverse = np.unique(days, return_inverse=True)
    else:
        unique, inverse = np.arange(lo, lo + span), days - lo
    table = np.empty((len(unique), width), dtype=np.uint8)
    year, month, dom = civil(unique)
    put_digits(table, 0, year, 4)
    table[:, 4] = 45
    put_digits(table, 5, month, 2)
    table[:, 7] = 45
    put_digits(table, 8, dom, 2)
    if suffix:
        table[:, 10:] = np.frombuffer(suffix, dtype=np.uint8)
    return table.view(f"S{width}").ravel()[inverse]


def _timestamp_matrix(seconds: np.ndarray, suffix: str) -> np.ndarray:
    sec = np.asarray(seconds, dtype=np.int64)
    days = sec // DAY
    clock = _time_of_day(suffix)
    width = 11 + clock.itemsize
    mat = np.empty((len(sec), width), dtype=np.uint8)
    mat[:, :11] = _bytes(_day_strings(days, b"T"), 11)
    mat[:, 11:] = _bytes(clock[sec - days * DAY], clock.itemsize)
    return mat


def instant(seconds: np.ndarray) -> pa.StringArray:
    """FHIR dateTime/instant with offset: ``2024-03-05T08:15:00+08:00``."""
    return from_matrix(_timestamp_matrix(seconds, TZ_OFFSET))


def instants(*columns: np.ndarray) -> list[pa.StringArray]:
    """``instant`` of several equally long columns in one pass (zero-copy slices of one array)."""
    n = len(columns[0])
    whole = instant(np.concatenate(columns)) if n else pa.array([], pa.string())
    return [whole.slice(i * n, n) for i in range(len(columns))]


def instant_seg(seconds: np.ndarray) -> Seg:
    """Like ``instant``, but a literal when every row has the same time (a snapshot's extract time)."""
    sec = np.asarray(seconds, dtype=np.int64)
    if len(sec) and (sec == sec[0]).all():
        return str(instant(sec[:1])[0])
    return instant(sec)


def local_ts(seconds: np.ndarray) -> pa.StringArray:
    """Hospital local time without offset (CSV/JSONL): ``2024-03-05T08:15:00``."""
    return from_matrix(_timestamp_matrix(seconds, ""))


def date_str(days: np.ndarray) -> pa.StringArray:
    """``YYYY-MM-DD`` for epoch days."""
    return from_matrix(_bytes(_day_strings(days, b""), 10))


def day_label(day: int) -> str:
    return str(date_str(np.array([day]))[0])


def int_str(values: np.ndarray) -> pa.StringArray:
    return pc.cast(pa.array(np.asarray(values, dtype=np.int64)), pa.string())


def digits(values: np.ndarray, width: int, prefix: str = "") -> pa.StringArray:
    """Zero-padded decimal numbers with an ASCII prefix: ``digits([7], 6, "FU")`` → ``FU000007``."""
    mat = np.empty((len(values), len(prefix) + width), dtype=np.uint8)
    if prefix:
        _put_text(mat, 0, prefix)
    put_digits(mat, len(prefix), np.asarray(values), width)
    return from_matrix(mat)


def mix64(keys: np.ndarray, salt: int) -> np.ndarray:
    """splitmix64 of keys xor salt: a bijection, so distinct keys give distinct outputs."""
    with np.errstate(over="ignore"):
        z = np.asarray(keys).astype(np.uint64) ^ np.uint64(salt & 0xFFFFFFFFFFFFFFFF)
        z = z + np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return (z ^ (z >> np.uint64(31))) & _M64


_HEX2 = np.array([b"%02x" % i for i in range(256)], dtype="S2").view(np.uint16)


def hex_ids(keys: np.ndarray, salt: int, prefix: str = "", width: int = 16) -> pa.StringArray:
    """Opaque ids like ``e3b0c44298fc1c14``: hex of a keyed hash (unique per key for width ≥ 16).

    Widths above 16 append hex digits of a second hash.
    """
    keys = np.asarray(keys)
    words = [mix64(keys, salt)] + ([mix64(keys, salt ^ 0x5DEECE66D)] if width > 16 else [])
    n = len(keys)
    digits = np.concatenate(
        [_HEX2[w.astype(">u8").view(np.uint8).reshape(n, 8)].view(np.uint8) for w in words], axis=1
    )
    mat = np.empty((n, len(prefix) + width), dtype=np.uint8)
    if prefix:
        _put_text(mat, 0, prefix)
    mat[:, len(prefix) :] = digits[:, :width]
    return from_matrix(mat)


def vocab(values: Iterable[str]) -> pa.StringArray:
    return pa.array(list(values), type=pa.string())


def take(values: pa.Array, idx: np.ndarray) -> pa.Array:
    return values.take(pa.array(np.asarray(idx, dtype=np.int64)))


def sparse(mask: np.ndarray, build: Callable[[np.ndarray], pa.Array], default: str) -> Seg:
    """``build(rows)`` text where ``mask`` holds, ``default`` elsewhere; ``build`` only runs on those rows."""
    mask = np.asarray(mask, dtype=bool)
    if not mask.any():
        return default
    rows = np.flatnonzero(mask)
    values = pa.concat_arrays([pa.array([default], pa.string()), build(rows)])
    index = np.zeros(len(mask), dtype=np.int64)
    index[rows] = np.arange(1, len(rows) + 1)
    return values.take(pa.array(index))


def json_escape(values: pa.Array) -> pa.Array:
    """Escape backslashes and quotes for a JSON string body (text here has no control characters)."""
    return pc.replace_substring(pc.replace_substring(values, "\\", "\\\\"), '"', '\\"')


def csv_text(values: pa.Array) -> pa.Array:
    """RFC 4180 field: quoted (with doubled quotes) only when it holds a comma or quote."""
    doubled = pc.replace_substring(values, '"', '""')
    quoted = pc.binary_join_element_wise('"', doubled, '"', "")
    return pc.if_else(pc.match_substring_regex(values, '[",]'), quoted, values)


def when(mask: np.ndarray, value: Seg, other: Seg = "") -> Seg:
    """Per-row choice between two segments (an all-true/all-false mask keeps a literal literal)."""
    mask = np.asarray(mask, dtype=bool)
    if mask.all():
        return value
    if not mask.any():
        return other
    return pc.if_else(pa.array(mask), value, other)


def concat_text(*segments: Seg) -> pa.Array:
    """Concatenate segments row by row (at least one must be an array)."""
    return pc.binary_join_element_wise(*segments, "")


def assemble(
    groups: Sequence[Group], n: int, omit: frozenset[str] = frozenset()
) -> pa.StringArray | pa.ChunkedArray:
    """One line per row (ending in ``\\n``) from the groups' segments, leaving out groups in ``omit``."""
    if n == 0:
        return pa.array([], type=pa.string())
    parts: list[Seg] = []
    for name, segments in groups:
        if name in omit:
            continue
        for segment in segments:
            if isinstance(segment, str) and parts and isinstance(parts[-1], str):
                parts[-1] = parts[-1] + segment
            elif not (isinstance(segment, str) and segment == ""):
                parts.append(segment)
    if parts and isinstance(parts[-1], str):
        parts[-1] = parts[-1] + "\n"
    else:
        parts.append("\n")
    if all(isinstance(p, str) for p in parts):
        constant = pa.array(["".join(p for p in parts if isinstance(p, str))], type=pa.string())
        return constant.take(pa.array(np.zeros(n, dtype=np.int64)))
    return pc.binary_join_element_wise(*parts, "")


def json_list(items: Sequence[Seg]) -> Seg:
    """Body of a JSON list from optional items that each start with ``,`` (or are empty per row)."""
    if all(isinstance(item, str) for item in items):
        return "".join(str(item) for item in items)[1:]
    return pc.utf8_slice_codeunits(concat_text(*items), 1)


def buffer(lines: pa.Array) -> memoryview:
    """The bytes of lines that already end in ``\\n`` (no copy)."""
    if len(lines) == 0:
        return memoryview(b"")
    offsets = np.frombuffer(lines.buffers()[1], dtype=np.int32)
    start = int(offsets[lines.offset])
    end = int(offsets[lines.offset + len(lines)])
    return memoryview(lines.buffers()[2])[start:end]


def lines_bytes(lines: pa.Array) -> memoryview:
    """Lines without a newline, each followed by ``\\n``, as one UTF-8 buffer."""
    if len(lines) == 0:
        return memoryview(b"")
    return buffer(pc.binary_join_element_wise(lines, "\n", ""))
