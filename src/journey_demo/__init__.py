"""The demo hospital: daily source drops that look like what real hospital systems export.

``generate`` simulates a hospital day by day and writes ``landing/<source>/<YYYY-MM-DD>/<file>`` exactly as
``data/README.md`` (the source contract) describes: FHIR R4 Bulk NDJSON from the EHR, campaigns and
touches from the CRM, follow-ups, complaints and reviews from patient relations. Into ``record_dir`` it
writes what a test needs to check the pipeline against the truth: ``defects.jsonl`` (every injected
fault, with file and row), ``identities.parquet`` (the planted PII of every patient that landed) and
``generation.json`` (parameters and report). The same seed and parameters give the same bytes.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from journey_demo import fmt
from journey_demo.defects import KINDS
from journey_demo.engine import Hospital
from journey_demo.minimal import generate_minimal
from journey_demo.model import Params, epoch_day
from journey_demo.patients import identities

__all__ = ["GenerationReport", "generate", "KINDS", "PROFILES"]

#: Export profiles: ``full`` (every source and element of the contract) and ``minimal`` (what FHIR bulk
#: exports typically hold: journey_demo.minimal).
PROFILES = ("full", "minimal")


@dataclass(frozen=True)
class GenerationReport:
    """What a generation run wrote."""

    days: int
    files: int
    rows: dict[str, int]  # by file type, e.g. "ehr/Encounter"
    defects: dict[str, int]  # by kind
    seconds: float

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())

    @property
    def rows_per_second(self) -> float:
        return self.total_rows / self.seconds if self.seconds > 0 else float("inf")


def generate(
    landing_dir: Path,
    record_dir: Path,
    *,
    start: date,
    days: int,
    scale: float = 1.0,
    seed: int = 42,
    defect_rate: float = 0.0,
    max_rows_per_file: int = 200_000,
    on_day: Callable[[int], None] | None = None,
    profile: str = "full",
) -> GenerationReport:
    """Write ``days`` daily drops from ``start`` into ``landing_dir`` and the record into ``record_dir``.

    ``scale`` 1.0 is a mid-size hospital (about 1,000 encounters a day); 0.01 a small clinic, 20 a
    multi-campus network. ``defect_rate`` is the share of rows that get a fault (0 = clean data).
    Existing files with the same names are overwritten; nothing else is deleted. ``on_day`` is called
    with the number of days simulated so far (for a progress bar). ``profile`` ``minimal`` writes only
    what bulk exports typically hold (journey_demo.minimal): EHR NDJSON only, period-only encounters.
    """
    if days < 1:
        raise ValueError("days must be at least 1")
    if scale <= 0:
        raise ValueError("scale must be positive")
    if not 0 <= defect_rate < 1:
        raise ValueError("defect_rate must be in [0, 1)")
    if max_rows_per_file < 1:
        raise ValueError("max_rows_per_file must be positive")
    if profile not in PROFILES:
        raise ValueError(f"profile must be one of {', '.join(PROFILES)}")
    if profile == "minimal" and defect_rate:
        raise ValueError("the minimal profile writes clean data: defect_rate must be 0")
    params = Params(
        start_day=epoch_day(start),
        days=days,
        scale=scale,
        seed=seed,
        defect_rate=defect_rate,
        max_rows_per_file=max_rows_per_file,
    )
    began = time.perf_counter()
    landing_dir.mkdir(parents=True, exist_ok=True)
    record_dir.mkdir(parents=True, exist_ok=True)
    target = record_dir / "full-landing" if profile == "minimal" else landing_dir
    hospital = Hospital(params, target)
    hospital.run(on_day)
    _write_defects(record_dir / "defects.jsonl", hospital.writer.defect_table())
    pq.write_table(identities(hospital.pool), record_dir / "identities.parquet")
    writer = hospital.writer
    rows, files = dict(sorted(writer.rows.items())), writer.files
    if profile == "minimal":
        rows = generate_minimal(target, landing_dir)
        files = sum(1 for path in (landing_dir / "ehr").rglob("*.ndjson"))
    report = GenerationReport(
        days=days,
        files=files,
        rows=rows,
        defects={kind: writer.faults.get(kind, 0) for kind in KINDS if writer.faults.get(kind, 0)},
        seconds=round(time.perf_counter() - began, 3),
    )
    parameters = {
        "start": start.isoformat(),
        "days": days,
        "scale": scale,
        "seed": seed,
        "defect_rate": defect_rate,
        "max_rows_per_file": max_rows_per_file,
    }
    if profile != "full":
        parameters["profile"] = profile
    payload = {"parameters": parameters, "report": asdict(report)}
    (record_dir / "generation.json").write_text(
        json.dumps(payload, indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )
    return report


def _json_or_null(values: pa.Array, quote: bool = True) -> pa.Array:
    text = pc.cast(values, pa.string())
    body = fmt.concat_text('"', fmt.json_escape(text), '"') if quote else text
    return pc.if_else(pc.is_null(values), "null", pc.fill_null(body, ""))


def _write_defects(path: Path, table: pa.Table) -> None:
    """One JSON object per fault (``row`` is 1-based; null for a whole-file fault)."""
    if table.num_rows == 0:
        path.write_bytes(b"")
        return
    lines = fmt.concat_text(
        '{"kind":',
        _json_or_null(table["kind"].combine_chunks()),
        ',"source":',
        _json_or_null(table["source"].combine_chunks()),
        ',"file":',
        _json_or_null(table["file"].combine_chunks()),
        ',"row":',
        _json_or_null(table["row"].combine_chunks(), quote=False),
        ',"record_id":',
        _json_or_null(table["record_id"].combine_chunks()),
        ',"field":',
        _json_or_null(table["field"].combine_chunks()),
        ',"detail":',
        _json_or_null(table["detail"].combine_chunks()),
        "}",
    )
    path.write_bytes(fmt.lines_bytes(lines))
