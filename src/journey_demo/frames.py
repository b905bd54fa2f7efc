"""Columnar record batches (``Frame``) and the ``Outbox`` that holds them until their drop day.

A Frame is a dict of equally long numpy arrays: numbers only (codes are indices into ``model`` lists,
times are local seconds), so simulation stays vectorised and text is built once, when a drop is written.
The Outbox keys frames by (epoch day, file key): records simulated today may land days later (a survey
answered next week, an inpatient discharged on Friday).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping

import numpy as np


class Frame:
    """Equally long numpy columns."""

    __slots__ = ("cols",)

    def __init__(self, cols: Mapping[str, np.ndarray]) -> None:
        self.cols = {name: np.asarray(values) for name, values in cols.items()}
        lengths = {len(values) for values in self.cols.values()}
        if len(lengths) > 1:
            raise ValueError(f"ragged frame: { {k: len(v) for k, v in self.cols.items()} }")

    def __len__(self) -> int:
        return len(next(iter(self.cols.values()))) if self.cols else 0

    def __getitem__(self, name: str) -> np.ndarray:
        return self.cols[name]

    def __setitem__(self, name: str, values: np.ndarray) -> None:
        self.cols[name] = np.asarray(values)

    def __contains__(self, name: str) -> bool:
        return name in self.cols

    def take(self, idx: np.ndarray) -> Frame:
        return Frame({name: values[idx] for name, values in self.cols.items()})

    def slice(self, start: int, stop: int) -> Frame:
        """Rows ``start:stop`` as views (no copy)."""
        return Frame({name: values[start:stop] for name, values in self.cols.items()})

    def copy(self) -> Frame:
        return Frame({name: values.copy() for name, values in self.cols.items()})

    @staticmethod
    def concat(frames: Iterable[Frame]) -> Frame:
        """Rows of all frames; columns of the first frame that has any (empty frames keep them)."""
        shaped = [f for f in frames if f.cols]
        if not shaped:
            return Frame({})
        parts = [f for f in shaped if len(f)] or shaped[:1]
        return Frame({name: np.concatenate([p.cols[name] for p in parts]) for name in shaped[0].cols})


class Outbox:
    """Frames waiting for the drop of their day."""

    def __init__(self) -> None:
        self._due: dict[int, dict[str, list[Frame]]] = defaultdict(lambda: defaultdict(list))

    def put(self, key: str, frame: Frame, days: np.ndarray) -> None:
        """File each row under its landing day."""
        if not len(frame):
            return
        days = np.asarray(days, dtype=np.int64)
        first, last = int(days.min()), int(days.max())
        if first == last:
            self._due[first][key].append(frame)
            return
        order = np.argsort(days, kind="stable")
        ordered = frame.take(order)
        bounds = np.searchsorted(days[order], np.arange(first, last + 2))
        for day, lo, hi in zip(range(first, last + 1), bounds[:-1], bounds[1:], strict=True):
            if hi > lo:
                self._due[day][key].append(ordered.slice(int(lo), int(hi)))

    def put_day(self, key: str, frame: Frame, day: int) -> None:
        if len(frame):
            self._due[day][key].append(frame)

    def pop(self, day: int) -> dict[str, Frame]:
        """Everything due on ``day``, one frame per file key; earlier days are discarded (pre-start)."""
        for stale in [d for d in self._due if d < day]:
            del self._due[stale]
        due = self._due.pop(day, {})
        return {key: Frame.concat(frames) for key, frames in due.items()}


class Columns:
    """Growable numpy columns (the patient pool, the open bookings)."""

    def __init__(self, dtypes: Mapping[str, np.dtype | type]) -> None:
        self._data = {name: np.empty(1024, dtype=dtype) for name, dtype in dtypes.items()}
        self.n = 0

    def __getitem__(self, name: str) -> np.ndarray:
        return self._data[name][: self.n]

    def append(self, cols: Mapping[str, np.ndarray]) -> np.ndarray:
        """Append rows; returns their indices."""
        k = len(next(iter(cols.values())))
        need = self.n + k
        capacity = len(next(iter(self._data.values())))
        if need > capacity:
            new_capacity = max(need, capacity * 2)
            for name, values in self._data.items():
                grown = np.empty(new_capacity, dtype=values.dtype)
                grown[: self.n] = values[: self.n]
                self._data[name] = grown
        for name, values in self._data.items():
            values[self.n : need] = cols[name]
        idx = np.arange(self.n, need, dtype=np.int64)
        self.n = need
        return idx
