"""Writing drops: frame → text lines → faults → files under ``landing/<source>/<YYYY-MM-DD>/``.

Each file of a drop goes through two steps. ``prepare`` (no shared state, so a drop's files are
prepared in worker threads while the next day is simulated): sort the rows, plan and apply faults
(``defects``), encode every row with one Arrow join, re-encode the few rows that lose a required
element, break malformed lines, take out rows that will arrive late, append rows arriving late from
earlier drops and repeat duplicated ones. ``commit``
(in file order, so the output never depends on thread timing): hand late rows to their later drop,
split big Encounter exports into ``Encounter.000.ndjson`` …, queue the bytes for a background writer
and record every fault with the file and 1-based row the loader will see (physical line for
NDJSON/JSONL, data row for CSV).
"""

from __future__ import annotations

from collections import Counter, defaultdict, deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from journey_demo import defects, fmt
from journey_demo.fmt import Group
from journey_demo.frames import Frame
from journey_demo.model import DAY, Params, stream

Encoder = Callable[[str, Frame], tuple[list[Group], pa.Array]]
_EMPTY = pa.chunked_array([], type=pa.string())


@dataclass(frozen=True)
class FileSpec:
    """One kind of landed file."""

    key: str  # "<source>/<name>"
    filename: str
    sort_by: str | None  # None: rows stay in the order they were produced
    header: str | None = None
    always: bool = True  # written in every drop, even without rows (CSV: the header)
    splittable: bool = False

    @property
    def source(self) -> str:
        return self.key.split("/")[0]

    @property
    def is_csv(self) -> bool:
        return self.header is not None


@dataclass
class _LateLines:
    lines: pa.ChunkedArray
    ids: pa.Array
    origin: np.ndarray  # epoch day each line belongs to


@dataclass
class _Faults:
    """Faults of one file before they get their final row numbers."""

    positions: list[np.ndarray] = field(default_factory=list)  # index into the lines before duplication
    offsets: list[np.ndarray] = field(default_factory=list)  # 1 for the duplicate copy, else 0
    kinds: list[np.ndarray] = field(default_factory=list)
    fields: list[np.ndarray] = field(default_factory=list)
    details: list[pa.Array] = field(default_factory=list)

    def add(
        self,
        positions: np.ndarray,
        offset: int,
        kind: str | np.ndarray,
        fields: np.ndarray | str,
        details: pa.Array,
    ) -> None:
        n = len(positions)
        if n:
            self.positions.append(positions)
            self.offsets.append(np.full(n, offset))
            self.kinds.append(np.broadcast_to(np.asarray(kind, dtype=object), n))
            self.fields.append(np.broadcast_to(np.asarray(fields, dtype=object), n))
            self.details.append(details)


@dataclass
class Prepared:
    """One file, encoded and faulted, waiting to be committed."""

    spec: FileSpec
    day: int
    lines: pa.ChunkedArray
    ids: pa.Array
    first: np.ndarray  # final 0-based position of each line before duplication
    faults: _Faults
    late: list[tuple[int, _LateLines]]  # (target day, lines) leaving this drop


def _write_file(path: Path, chunks: Sequence[bytes | memoryview]) -> None:
    with path.open("wb") as handle:
        for chunk in chunks:
            handle.write(chunk)


def _chunked(values: pa.Array | pa.ChunkedArray) -> pa.ChunkedArray:
    return values if isinstance(values, pa.ChunkedArray) else pa.chunked_array([values], type=pa.string())


def _scatter(
    lines: pa.ChunkedArray, rows: np.ndarray, replacement: pa.Array | pa.ChunkedArray
) -> pa.ChunkedArray:
    """``lines`` with ``lines[rows]`` replaced."""
    if not len(rows):
        return lines
    index = np.arange(len(lines))
    index[rows] = len(lines) + np.arange(len(rows))
    both = pa.chunked_array(lines.chunks + _chunked(replacement).chunks, type=pa.string())
    return both.take(pa.array(index))


def _strings(values: np.ndarray) -> pa.Array:
    return pa.array(values, type=pa.string())


_DETAIL_PREFIX = (
    (defects.MISSING, "required element absent: "),
    (defects.OUT_OF_ORDER, "timestamp out of order: "),
    (defects.FUTURE, "timestamp after the drop date: "),
    (defects.UNKNOWN, "code not in the contract: "),
)


def _details(kinds: np.ndarray, fields: np.ndarray, csv: bool) -> pa.Array:
    """Human-readable detail of content and malformed faults."""
    texts = [text for _, text in _DETAIL_PREFIX] + [
        "wrong number of fields" if csv else "truncated JSON line"
    ]
    index = np.select(
        [kinds == kind for kind, _ in _DETAIL_PREFIX], list(range(len(_DETAIL_PREFIX))), len(_DETAIL_PREFIX)
    )
    named = np.where(index < len(_DETAIL_PREFIX), fields, "").astype(str)
    return fmt.concat_text(fmt.take(fmt.vocab(texts), index), _strings(named))


class DropWriter:
    """Writes the files of drops and keeps the fault record, the row counts and the late lines."""

    def __init__(self, landing: Path, params: Params, encode: Encoder) -> None:
        self.landing = landing
        self.params = params
        self.encode = encode
        self.late: dict[int, dict[str, list[_LateLines]]] = defaultdict(lambda: defaultdict(list))
        self.records: list[pa.Table] = []
        self.rows: Counter[str] = Counter()
        self.faults: Counter[str] = Counter()
        self.files = 0
        self.encoded_gb18030 = False
        self._non_ascii_csv: list[tuple[FileSpec, Path]] = []
        self._cpu = ThreadPoolExecutor(max_workers=2, thread_name_prefix="journey-generate-encode")
        self._io = ThreadPoolExecutor(max_workers=1, thread_name_prefix="journey-generate-io")
        self._pending: deque[Future[None]] = deque()

    # -- public ----------------------------------------------------------------------------------

    def start_drop(self, day: int, files: Sequence[tuple[FileSpec, Frame]]) -> list[Future[Prepared]]:
        """Start preparing every file of the drop of ``day`` in worker threads.

        The caller must ``finish`` the previous drop first (it hands over this drop's late lines),
        and must not change the frames' patients' text attributes while the jobs run.
        """
        jobs = []
        for spec, frame in files:
            incoming = self.late.get(day, {}).pop(spec.key, [])
            if len(frame) or incoming or spec.always:
                jobs.append(self._cpu.submit(self.prepare, spec, frame, day, incoming))
        return jobs

    def finish(self, jobs: Sequence[Future[Prepared]]) -> None:
        """Commit a drop's prepared files in file order (the output never depends on thread timing)."""
        for job in jobs:
            self.commit(job.result())

    def complete(self) -> None:
        """After the last drop: wait until every file is on disk (re-raising a failed write)."""
        while self._pending:
            self._pending.popleft().result()
        self._fallback_gb18030()

    def close(self) -> None:
        """Stop the worker threads (after ``complete``, or on error)."""
        self._cpu.shutdown(cancel_futures=True)
        self._io.shutdown()

    def _fallback_gb18030(self) -> None:
        """Short runs may land no complaints with Chinese text: then re-encode the first CSV that has some."""
        if self.encoded_gb18030 or self.params.defect_rate <= 0 or not self._non_ascii_csv:
            return
        spec, path = self._non_ascii_csv[0]
        path.write_bytes(path.read_bytes().decode("utf-8").encode("gb18030"))
        self.encoded_gb18030 = True
        self._record_encoding(spec, path.relative_to(self.landing).as_posix())

    def defect_table(self) -> pa.Table:
        if not self.records:
            return pa.table(
                {
                    k: pa.array([], pa.string())
                    for k in ("kind", "source", "file", "row", "record_id", "field", "detail")
                }
            )
        return pa.concat_tables(self.records)

    # -- prepare (no shared state) ---------------------------------------------------------------

    def prepare(self, spec: FileSpec, frame: Frame, day: int, incoming: list[_LateLines]) -> Prepared:
        if len(frame) and spec.sort_by is not None:
            key = frame[spec.sort_by]
            if (key[1:] < key[:-1]).any():
                frame = frame.take(np.argsort(key, kind="stable"))
        rng = stream(self.params.seed, "defects:" + spec.key, day)
        max_late = min(5, self.params.end_day - 1 - day)
        plan = defects.plan_faults(
            spec.key, frame, self.params.defect_rate, rng, day * DAY + DAY - 1, max_late
        )
        lines, ids = self._encode(spec, frame, plan)
        faults = _Faults()
        kinds = plan.kinds
        bad = plan.rows[kinds == defects.MALFORMED]
        if len(bad):
            lines = _scatter(lines, bad, defects.malform(lines.take(pa.array(bad)), spec.is_csv, rng))
        lines, ids, new_index, late = self._take_out_late(lines, ids, plan, day)
        stay = (kinds != defects.LATE) & (kinds != defects.DUPLICATE)
        faults.add(
            new_index[plan.rows[stay]],
            0,
            kinds[stay],
            plan.fields[stay],
            _details(kinds[stay], plan.fields[stay], spec.is_csv),
        )
        lines, ids = self._append_incoming(lines, ids, incoming, day, faults)
        duplicated = np.zeros(len(lines), dtype=bool)
        duplicated[new_index[plan.rows[kinds == defects.DUPLICATE]]] = True
        counts = 1 + duplicated.astype(np.int64)
        first = np.cumsum(counts) - counts
        if duplicated.any():
            originals = np.flatnonzero(duplicated)
            faults.add(originals, 1, defects.DUPLICATE, "", pa.nulls(len(originals), pa.string()))
            order = pa.array(np.repeat(np.arange(len(lines)), counts))
            lines, ids = lines.take(order), ids.take(order)
        return Prepared(spec, day, lines, ids, first, faults, late)

    def _encode(
        self, spec: FileSpec, frame: Frame, plan: defects.FaultPlan
    ) -> tuple[pa.ChunkedArray, pa.Array]:
        if not len(frame):
            return _EMPTY, pa.array([], pa.string())
        groups, ids = self.encode(spec.key, frame)
        lines = _chunked(fmt.assemble(groups, len(frame)))
        for group in sorted(set(plan.omit[plan.omit != ""])):
            rows = plan.rows[plan.omit == group]
            sub_groups, _ = self.encode(spec.key, frame.take(rows))
            lines = _scatter(lines, rows, fmt.assemble(sub_groups, len(rows), frozenset({group})))
        return lines, ids

    @staticmethod
    def _take_out_late(
        lines: pa.ChunkedArray, ids: pa.Array, plan: defects.FaultPlan, day: int
    ) -> tuple[pa.ChunkedArray, pa.Array, np.ndarray, list[tuple[int, _LateLines]]]:
        is_late = plan.kinds == defects.LATE
        keep = np.ones(len(lines), dtype=bool)
        keep[plan.rows[is_late]] = False
        late = []
        for k in np.unique(plan.late_days[is_late]):
            rows = pa.array(plan.rows[is_late & (plan.late_days == k)])
            late.append((day + int(k), _LateLines(lines.take(rows), ids.take(rows), np.full(len(rows), day))))
        if not keep.all():
            mask = pa.array(keep)
            lines, ids = lines.filter(mask), ids.filter(mask)
        return lines, ids, np.cumsum(keep) - 1, late

    @staticmethod
    def _append_incoming(
        lines: pa.ChunkedArray, ids: pa.Array, incoming: list[_LateLines], day: int, faults: _Faults
    ) -> tuple[pa.ChunkedArray, pa.Array]:
        """Lines arriving late from earlier drops go to the end of the file."""
        if not incoming:
            return lines, ids
        n_own = len(lines)
        lines = pa.chunked_array(
            lines.chunks + [c for x in incoming for c in x.lines.chunks], type=pa.string()
        )
        ids = pa.concat_arrays([ids] + [x.ids for x in incoming])
        origin = np.concatenate([x.origin for x in incoming])
        detail = fmt.concat_text(
            "record of ", fmt.date_str(origin), " delivered ", fmt.int_str(day - origin), " day(s) late"
        )
        faults.add(n_own + np.arange(len(origin)), 0, defects.LATE, "", detail)
        return lines, ids

    # -- commit (in order) -----------------------------------------------------------------------

    def commit(self, prepared: Prepared) -> None:
        spec, day, lines = prepared.spec, prepared.day, prepared.lines
        for target, late in prepared.late:
            self.late[target][spec.key].append(late)
        if not len(lines) and not spec.always:
            return  # every row left for a later drop: no empty file
        folder = self.landing / spec.source / fmt.day_label(day)
        folder.mkdir(parents=True, exist_ok=True)
        n = len(lines)
        size = self.params.max_rows_per_file
        parts = max(1, -(-n // size)) if spec.splittable else 1
        stem, ext = spec.filename.rsplit(".", 1)
        names = [spec.filename] if parts == 1 else [f"{stem}.{i:03d}.{ext}" for i in range(parts)]
        for i, name in enumerate(names):
            chunk = lines.slice(i * size, size) if parts > 1 else lines
            data: list[bytes | memoryview] = [fmt.buffer(c) for c in chunk.chunks if len(c)]
            if spec.header is not None:
                data.insert(0, spec.header.encode() + b"\n")
            if self._wants_gb18030(spec, day, data):
                data = [b"".join(bytes(c) for c in data).decode("utf-8").encode("gb18030")]
                self._record_encoding(spec, f"{spec.source}/{fmt.day_label(day)}/{name}")
            elif spec.is_csv and not self._non_ascii_csv and self.params.defect_rate > 0:
                if not all(bytes(c).isascii() for c in data):
                    self._non_ascii_csv.append((spec, folder / name))
            self._submit(folder / name, data)
            self.files += 1
        self.rows[spec.key] += n
        self._record(prepared, names, size if parts > 1 else max(n, 1))

    def _submit(self, path: Path, chunks: list[bytes | memoryview]) -> None:
        """Write a file in the background (I/O overlaps the encoding of the next files)."""
        while len(self._pending) > 16:
            self._pending.popleft().result()
        self._pending.append(self._io.submit(_write_file, path, chunks))

    def _wants_gb18030(self, spec: FileSpec, day: int, data: list[bytes | memoryview]) -> bool:
        """The run's one GB18030 file: the first later complaints.csv holding Chinese text."""
        if self.encoded_gb18030 or self.params.defect_rate <= 0 or spec.key != "relations/complaints":
            return False
        if day == self.params.start_day or len(data) < 2:
            return False
        raw = b"".join(bytes(c) for c in data)
        if raw.isascii():
            return False
        try:
            raw.decode("utf-8").encode("gb18030").decode("utf-8")
        except UnicodeDecodeError:
            self.encoded_gb18030 = True
            return True
        return False

    def _record_encoding(self, spec: FileSpec, path: str) -> None:
        self.faults[defects.ENCODING] += 1
        self.records.append(
            pa.table(
                {
                    "kind": [defects.ENCODING],
                    "source": [spec.source],
                    "file": [path],
                    "row": pa.array([None], pa.int64()),
                    "record_id": pa.array([None], pa.string()),
                    "field": pa.array([None], pa.string()),
                    "detail": ["file written in GB18030, not UTF-8"],
                }
            )
        )

    def _record(self, prepared: Prepared, names: list[str], size: int) -> None:
        faults = prepared.faults
        if not faults.positions:
            return
        offsets = np.concatenate(faults.offsets)
        row0 = prepared.first[np.concatenate(faults.positions)] + offsets  # 0-based in the whole export
        kinds = np.concatenate(faults.kinds).astype(str)
        fields = np.concatenate(faults.fields).astype(str)
        spec = prepared.spec
        folder = f"{spec.source}/{fmt.day_label(prepared.day)}/"
        paths = fmt.vocab(folder + name for name in names)
        copy_of = np.maximum(row0 - 1, 0)
        duplicate_detail = fmt.concat_text(
            "exact copy of ", fmt.take(paths, copy_of // size), " row ", fmt.int_str(copy_of % size + 1)
        )
        for value, count in zip(*np.unique(kinds, return_counts=True), strict=True):
            self.faults[str(value)] += int(count)
        self.records.append(
            pa.table(
                {
                    "kind": _strings(kinds),
                    "source": pa.array(np.full(len(kinds), spec.source)),
                    "file": fmt.take(paths, row0 // size),
                    "row": pa.array(row0 % size + 1, pa.int64()),
                    "record_id": prepared.ids.take(pa.array(row0)),
                    "field": pc.if_else(
                        pa.array(fields != ""), _strings(fields), pa.scalar(None, pa.string())
                    ),
                    "detail": pc.if_else(
                        pa.array(offsets == 1), duplicate_detail, pa.concat_arrays(faults.details)
                    ),
                }
            )
        )
