"""The empty night: `journey run` and `journey backfill` when nothing new landed (issue #26, goal ≤ 5 s).

A small hospital (1 day x 0.02) is generated and published once (not measured, kept in
``--data-dir``); then each command runs ``--repeats`` times, each in a child process measured as in
bench/run.py (wall, CPU, peak RSS), with no PREFECT_API_URL, as a data engineer or cron runs it.
Every repeat must end `skipped` / "nothing to backfill", or the measure is marked not ok.

    python bench/empty_night.py                       # 5 repeats of each, results/empty-night.json
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from measure import run_measured, summarise
from run import BENCH, ROOT, child_env, machine

GOAL_S = 5.0
JOURNEY = [sys.executable, "-m", "journey.cli"]
#: what each measured command must print to count as the empty night it claims to be
CASES = {"run": (["run"], "skipped"), "backfill": (["backfill"], "nothing to backfill")}


def publish_once(data_dir: Path) -> None:
    """Generate and publish the small hospital unless an earlier benchmark left it."""
    if (data_dir / "warehouse" / "journey.duckdb").is_file():
        return
    env = child_env(data_dir)
    for args in (["init"], ["generate", "--days", "1", "--start", "2026-03-02", "--scale", "0.02"], ["run"]):
        subprocess.run([*JOURNEY, *args], env=env, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)


def measure(data_dir: Path, repeats: int) -> dict[str, Any]:
    env = child_env(data_dir)
    results: dict[str, Any] = {}
    for name, (args, expected) in CASES.items():
        samples = []
        for repeat in range(repeats):
            log = data_dir / "bench-logs" / f"{name}-{repeat}.log"
            sample = run_measured([*JOURNEY, *args], env, log, ROOT)
            if expected not in log.read_text(encoding="utf-8"):
                sample = type(sample)(sample.wall_s, sample.cpu_s, sample.peak_rss_mb, returncode=-1)
            samples.append(sample)
        results[name] = {**summarise(samples), "goal_s": GOAL_S}
        results[name]["met"] = results[name]["ok"] and results[name]["wall_s"] <= GOAL_S
    return results


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, default=BENCH / "data" / "empty-night")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--out", type=Path, default=BENCH / "results" / "empty-night.json")
    args = parser.parse_args(argv)
    publish_once(args.data_dir.resolve())
    results = {"machine": machine(), "measures": measure(args.data_dir.resolve(), args.repeats)}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print("| empty night | wall s (median) | CPU s | peak RSS MB | goal ≤ 5 s |")
    print("|---|---:|---:|---:|---|")
    for name, result in results["measures"].items():
        print(
            f"| `journey {name}` | {result['wall_s']} | {result['cpu_s']} | {result['peak_rss_mb']} | "
            f"{'met' if result['met'] else 'NOT met'} |"
        )


if __name__ == "__main__":
    main()
