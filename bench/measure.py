"""Run one command in a child process and measure it: wall seconds, CPU seconds, peak RSS.

CPU and peak RSS come from ``os.wait4`` (the child plus every descendant it waited for: dbt, the
temporary Prefect server). Peak RSS is the largest single process in that tree, not their sum.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Sample:
    wall_s: float
    cpu_s: float
    peak_rss_mb: float
    returncode: int
    detail: dict[str, Any] = field(default_factory=dict)


def run_measured(cmd: list[str], env: dict[str, str], log: Path, cwd: Path) -> Sample:
    """Run ``cmd`` with output to ``log``; its wall, CPU (user + system) and peak RSS."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as out:
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    return Sample(
        wall_s=round(wall, 3),
        cpu_s=round(usage.ru_utime + usage.ru_stime, 3),
        peak_rss_mb=round(usage.ru_maxrss / 1024, 1),  # Linux: kilobytes
        returncode=proc.returncode,
    )


def summarise(samples: list[Sample]) -> dict[str, Any]:
    """Medians over the repeats (per-stage or per-phase seconds too), plus every sample."""
    stages: dict[str, list[float]] = {}
    for sample in samples:
        for stage, seconds in sample.detail.get("stage_seconds", {}).items():
            stages.setdefault(stage, []).append(float(seconds))
    summary: dict[str, Any] = {
        "wall_s": round(statistics.median(s.wall_s for s in samples), 3),
        "cpu_s": round(statistics.median(s.cpu_s for s in samples), 3),
        "peak_rss_mb": round(statistics.median(s.peak_rss_mb for s in samples), 1),
        "ok": all(s.returncode == 0 for s in samples),
        "repeats": len(samples),
        "samples": [asdict(s) for s in samples],
    }
    if stages:
        summary["stage_seconds"] = {stage: round(statistics.median(v), 3) for stage, v in sorted(stages.items())}
        extra = [s.detail for s in samples if s.detail]
        if any("flow_s" in d for d in extra):  # a flow's (the fair floor's phases have no flow around them)
            summary["flow_overhead_s"] = round(statistics.median(
                d.get("flow_s", 0.0) - sum(d.get("stage_seconds", {}).values()) for d in extra), 3)
            summary["import_s"] = round(statistics.median(d.get("import_s", 0.0) for d in extra), 3)
    return summary
