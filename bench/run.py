"""journey's benchmark: full build, one incremental day, two DuckDB floors and a pandas baseline, side by side.

Generates ``--days`` + 1 daily drops at ``--scale`` (cached under ``--data-dir``), then measures, each
as the median of ``--repeats`` runs in a child process (wall, CPU, peak RSS):

  full_build       the nightly flow over the first ``--days`` days, fresh data dir each repeat
  incremental_day  the nightly flow for day ``--days`` + 1 on top of that published history
                   (the pre-day data dir is restored before each repeat, at the same path)
  floor            bench/floor.sql over the same ``--days`` days of landing files (floor_read.sql's views)
  fair_floor       bench/fair_floor.py: every landed row of those files into a DuckDB file (typed, keyed,
                   checkpointed), then floor.sql over it
  pandas           bench/pandas_baseline.py over the same files

Every headline ratio (full build and incremental day over the floor, the fair floor and pandas;
incremental day over full build) is in ``ratios`` and the printed summary.

The two flow measures talk to one Prefect server started for the whole benchmark (``--prefect server``,
the default: the scheduled nightly under `journey serve`), or each start Prefect's temporary API
server in their own process (``--prefect ephemeral``: a one-off `journey run`). The script
writes ``--out`` (JSON) and a Markdown table on stdout. See bench/README.md.

    python bench/run.py                                         # default: a year x 2.1 (11.4 M touchpoints), ~27 min
    python bench/run.py --days 14 --scale 0.2 --full-repeats 3  # make bench-quick: minutes
    python bench/run.py --days 365 --scale 5.8                  # ~2 M encounters a year (hours today)
    python bench/run.py --skip full                             # the nightly again, on the last full build's history
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import duckdb
from agree import agreement
from dbt_profile import profile
from measure import Sample, run_measured, summarise

from journey.ops.prefect_server import prefect_server

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
PYTHON = sys.executable
MEASURES = ("full", "incremental", "floor", "fair_floor", "pandas")
PREFECT_MODES = ("server", "ephemeral")
# The landed rows int_touchpoints_unioned turns into touchpoints (everything but Patient, Slot, Location, ...).
TOUCHPOINT_SOURCES = ("crm/touches", "ehr/Appointment", "ehr/Encounter", "ehr/QuestionnaireResponse",
                      "relations/follow_ups", "relations/complaints", "relations/reviews")
BENCH_SECRET = "bench-only-pseudonymisation-key-not-a-real-secret"
#: in the kept snapshot: the landing parameters of the full build it was published by
SNAPSHOT_KEY = ".bench-landing-key"


def child_env(data_dir: Path | None = None, prefect_api_url: str | None = None) -> dict[str, str]:
    """Telemetry off; without ``prefect_api_url`` a flow starts Prefect's temporary API server itself."""
    env = dict(os.environ)
    # journey from this checkout's src/, whichever checkout the venv was installed from
    env.update(DO_NOT_TRACK="1", GX_ANALYTICS_ENABLED="false", PREFECT_SERVER_ANALYTICS_ENABLED="false",
               DBT_SEND_ANONYMOUS_USAGE_STATS="false", PYTHONPATH=f"{ROOT / 'src'}{os.pathsep}{ROOT}",
               JOURNEY_SECRET=BENCH_SECRET)
    env.pop("PREFECT_API_URL", None)
    if prefect_api_url is not None:
        env["PREFECT_API_URL"] = prefect_api_url
    if data_dir is not None:
        env["JOURNEY_DATA_DIR"] = str(data_dir)
    return env


def link_tree(source: Path, target: Path) -> None:
    """Copy a landing tree by hard links (the pipeline only reads landing files)."""
    shutil.copytree(source, target, copy_function=os.link, dirs_exist_ok=True)


def day_dirs(landing: Path, day: date) -> list[Path]:
    return [folder for folder in landing.glob(f"*/{day.isoformat()}") if folder.is_dir()]


def landing_key(args: argparse.Namespace) -> str:
    return f"d{args.days}-s{args.scale:g}-seed{args.seed}-{args.start}"


def prepare_landing(args: argparse.Namespace, work: Path) -> tuple[dict[str, Any], Path, Path]:
    """Generate days + 1 drops once (cached by parameters); split into history and the extra day."""
    key = landing_key(args)
    base = work / "landing" / key
    report_path = base / "generation.json"
    if not report_path.is_file():
        shutil.rmtree(base, ignore_errors=True)
        base.mkdir(parents=True)
        cmd = [PYTHON, str(BENCH / "jobs.py"), "generate", "--landing", str(base / "all"), "--record",
               str(base / "record"), "--start", args.start, "--days", str(args.days + 1), "--scale",
               str(args.scale), "--seed", str(args.seed), "--out", str(base / "generation.partial.json")]
        print(f"generating {args.days + 1} days at scale {args.scale:g} …", flush=True)
        sample = run_measured(cmd, child_env(), base / "generate.log", ROOT)
        if sample.returncode != 0:
            raise SystemExit(f"generation failed: see {base / 'generate.log'}")
        report = json.loads((base / "generation.partial.json").read_text(encoding="utf-8"))
        report["process"] = {"wall_s": sample.wall_s, "cpu_s": sample.cpu_s, "peak_rss_mb": sample.peak_rss_mb}
        report_path.write_text(json.dumps(report, indent=2), encoding="utf-8")
    report = json.loads(report_path.read_text(encoding="utf-8"))
    history, extra = base / "history", base / "extra"
    if not history.is_dir():
        last = date.fromisoformat(args.start) + timedelta(days=args.days)
        link_tree(base / "all", history)
        for folder in day_dirs(history, last):
            link_tree(folder, extra / folder.parent.name / folder.name)
            shutil.rmtree(folder)
    return report, history, extra


def fresh_data_dir(path: Path, landing: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    link_tree(landing, path / "landing")


def copy_data_dir(source: Path, target: Path) -> None:
    """A data dir copied byte for byte, except landing (hard links)."""
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(source, target, symlinks=True, ignore=shutil.ignore_patterns("landing"))
    link_tree(source / "landing", target / "landing")


def dbt_log(data_dir: Path) -> Path:
    return data_dir / "dbt" / "logs" / "dbt.log"


def flow_sample(data_dir: Path, end: date, run_date: date | None, log: Path, api_url: str | None) -> Sample:
    out = log.with_suffix(".json")
    cmd = [PYTHON, str(BENCH / "jobs.py"), "flow", "--data-dir", str(data_dir), "--end", end.isoformat(),
           "--out", str(out)]
    if run_date is not None:
        cmd += ["--run-date", run_date.isoformat()]
    sample = run_measured(cmd, child_env(data_dir, api_url), log, ROOT)
    detail = json.loads(out.read_text(encoding="utf-8")) if out.is_file() else {"status": "crashed"}
    return Sample(sample.wall_s, sample.cpu_s, sample.peak_rss_mb, sample.returncode, detail)


def measure_full(args: argparse.Namespace, work: Path, history: Path, last: date,
                 api_url: str | None) -> dict[str, Any]:
    target, samples = work / "runs" / "warehouse", []
    for repeat in range(args.full_repeats):
        fresh_data_dir(target, history)
        samples.append(flow_sample(target, last, None, work / "logs" / f"full-{repeat}.log", api_url))
        print(f"  full build #{repeat + 1}: {samples[-1].wall_s:.1f} s ({samples[-1].detail.get('status')})",
              flush=True)
    snapshot = work / "runs" / "snapshot"
    copy_data_dir(target, snapshot)
    (snapshot / SNAPSHOT_KEY).write_text(landing_key(args), encoding="utf-8")
    return {**summarise(samples), "dbt_profile_last_repeat": profile(dbt_log(target))}


def kept_history(args: argparse.Namespace, work: Path) -> bool:
    """The published history a previous full build of the same parameters left (``--skip full``)."""
    marker = work / "runs" / "snapshot" / SNAPSHOT_KEY
    return marker.is_file() and marker.read_text(encoding="utf-8") == landing_key(args)


def measure_incremental(args: argparse.Namespace, work: Path, extra: Path, day: date,
                        api_url: str | None) -> dict[str, Any]:
    """Restore the published history (same path: dbt's partial parse stays valid), land one day, run."""
    target, snapshot, samples = work / "runs" / "warehouse", work / "runs" / "snapshot", []
    history_log = dbt_log(snapshot).stat().st_size if dbt_log(snapshot).is_file() else 0
    for repeat in range(args.repeats):
        copy_data_dir(snapshot, target)
        link_tree(extra, target / "landing")
        samples.append(flow_sample(target, day, day, work / "logs" / f"incremental-{repeat}.log", api_url))
        print(f"  incremental day #{repeat + 1}: {samples[-1].wall_s:.1f} s ({samples[-1].detail.get('status')})",
              flush=True)
    return {**summarise(samples), "dbt_profile_last_repeat": profile(dbt_log(target), skip_bytes=history_log)}


def measure_simple(args: argparse.Namespace, work: Path, name: str, cmd: list[str],
                   report: Path | None = None) -> dict[str, Any]:
    """``--repeats`` runs of ``cmd``; ``report``: the JSON it writes, whose ``phase_seconds`` are kept per sample."""
    samples = []
    for repeat in range(args.repeats):
        if report is not None:
            report.unlink(missing_ok=True)
        sample = run_measured(cmd, child_env(), work / "logs" / f"{name}-{repeat}.log", ROOT)
        if report is not None and report.is_file():
            detail = json.loads(report.read_text(encoding="utf-8"))
            sample = Sample(sample.wall_s, sample.cpu_s, sample.peak_rss_mb, sample.returncode,
                            {"stage_seconds": detail["phase_seconds"], "landed_rows": detail["landed_rows"],
                             "files": detail["files"]})
        samples.append(sample)
        print(f"  {name} #{repeat + 1}: {samples[-1].wall_s:.1f} s", flush=True)
    summary = summarise(samples)
    if samples[-1].detail:
        summary.update(landed_rows=samples[-1].detail["landed_rows"], files=samples[-1].detail["files"])
    return summary


def children_cpu_s() -> float:
    """CPU seconds of every child process this one has waited for so far (and of their waited descendants)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


@contextmanager
def prefect_api(mode: str, work: Path, record: dict[str, Any]) -> Iterator[str | None]:
    """``server``: one Prefect server (fresh home and database under ``work``) for every flow run;
    yields its API URL and records its start-up wall in ``record``. ``ephemeral``: yields None."""
    if mode == "ephemeral":
        yield None
        return
    home = work / "prefect-server"
    shutil.rmtree(home, ignore_errors=True)
    started = time.perf_counter()
    with prefect_server(home) as api_url:
        record["start_s"] = round(time.perf_counter() - started, 3)
        print(f"prefect server at {api_url} (started in {record['start_s']:.1f} s)", flush=True)
        yield api_url


def machine() -> dict[str, Any]:
    meminfo = Path("/proc/meminfo").read_text(encoding="utf-8").split()
    total_kb = int(meminfo[meminfo.index("MemTotal:") + 1])
    return {
        "cores": os.cpu_count(), "ram_gb": round(total_kb / 1024 / 1024, 1), "python": platform.python_version(),
        "duckdb": duckdb.__version__, "platform": platform.platform(),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "duckdb_threads": os.environ.get("JOURNEY_DUCKDB_THREADS", "2"),
        "duckdb_memory_limit": os.environ.get("JOURNEY_DUCKDB_MEMORY_LIMIT", "4GB"),
    }


def warehouse_counts(warehouse: Path) -> dict[str, int | None]:
    if not warehouse.is_file():
        return {}
    conn = duckdb.connect(str(warehouse), read_only=True)
    counts: dict[str, int | None] = {}
    for table in ("marts.fct_touchpoints", "marts.fct_encounters", "raw.ehr_slot"):
        try:
            row = conn.sql(f"select count(*) from {table}").fetchone()
            counts[table] = int(row[0]) if row else None
        except duckdb.Error:
            counts[table] = None
    conn.close()
    return counts


TOUCHPOINTS_GOAL = 10_000_000


def goals(results: dict[str, Any]) -> dict[str, Any]:
    full, incr, floor = results.get("full_build_s"), results.get("incremental_day_s"), results.get("floor_s")
    rss, rate = results.get("peak_rss_mb"), results["generator"]["rows_per_second"]
    checks: dict[str, Any] = {}
    fair = results.get("fair_floor_s")
    if full and floor:  # issue 8's goal, against the floor that reads 3 of the 9 sources
        checks["full_build_over_floor"] = {"value": round(full / floor, 1), "goal": "<= 2", "met": full <= 2 * floor}
    if full and fair:  # issue 24's goal, against the fair floor (every landed row)
        checks["full_build_over_fair_floor"] = {"value": round(full / fair, 1), "goal": "<= 3", "met": full <= 3 * fair}
    if full and incr:
        checks["incremental_over_full"] = {"value": round(incr / full, 3), "goal": "<= 0.10", "met": incr <= 0.1 * full}
    if rss:
        # the goal is about 10 M touchpoints: below that size a small peak proves nothing (met = None)
        at_size = (results.get("touchpoints") or 0) >= TOUCHPOINTS_GOAL
        checks["peak_rss_mb"] = {"value": rss, "goal": "<= 4096 at 10 M touchpoints",
                                 "touchpoints": results.get("touchpoints"),
                                 "met": rss <= 4096 if at_size else None}
    checks["generator_rows_per_s"] = {"value": round(rate), "goal": ">= 1,000,000", "met": rate >= 1_000_000}
    return checks


#: the baselines every measure is reported against (results key: its wall seconds)
BASELINES = (("floor", "floor_s"), ("fair_floor", "fair_floor_s"), ("pandas", "pandas_s"))


def ratios(results: dict[str, Any]) -> dict[str, Any]:
    """Each measure's wall over each baseline's (``<measure>_over_<baseline>``), and the incremental day
    over the full build: the headline ratios, at any size (None where a measure was skipped)."""
    def over(numerator: float | None, denominator: float | None, digits: int = 1) -> float | None:
        return round(numerator / denominator, digits) if numerator and denominator else None

    table: dict[str, Any] = {}
    for measure in ("full_build", "incremental_day", "fair_floor", "pandas"):
        for baseline, key in BASELINES:
            if baseline != measure:
                table[f"{measure}_over_{baseline}"] = over(results.get(f"{measure}_s"), results.get(key))
    table["incremental_day_over_full_build"] = over(results.get("incremental_day_s"), results.get("full_build_s"), 3)
    return table


def ratio_lines(results: dict[str, Any]) -> list[str]:
    """The ratios as a Markdown table: one row per measure, one column per baseline."""
    found = results.get("ratios", {})
    rows = ["", "| measure | wall s | × floor | × fair floor | × pandas |", "|---|---:|---:|---:|---:|"]
    for measure in ("full_build", "incremental_day", "fair_floor", "pandas"):
        wall = results.get(f"{measure}_s")
        if wall is None:
            continue
        cells = [found.get(f"{measure}_over_{baseline}") for baseline, _ in BASELINES]
        rows.append(f"| {measure} | {wall:.1f} | " + " | ".join("" if c is None else f"{c:g}" for c in cells) + " |")
    share = found.get("incremental_day_over_full_build")
    if share is not None:
        rows.append(f"\nincremental day / full build: {share:.3f}")
    return rows


def prefect_line(results: dict[str, Any]) -> str:
    if results["params"]["prefect"] == "ephemeral":
        return "Prefect: ephemeral (each flow process starts a temporary API server, as a one-off `journey run`)"
    server = results.get("prefect_server", {})
    return (f"Prefect: server (one long-running server for every flow run, as `journey serve` meets it; "
            f"started in {server.get('start_s', 0):.1f} s, its CPU over the benchmark {server.get('cpu_s', 0):.1f} s, "
            "not in the flows' CPU)")


def markdown(results: dict[str, Any]) -> str:
    rows = [prefect_line(results), "", "| measure | wall s | CPU s | peak RSS MB | ok |", "|---|---:|---:|---:|---|"]
    for name, entry in results["measures"].items():
        rows.append(f"| {name} | {entry['wall_s']:.1f} | {entry['cpu_s']:.1f} | {entry['peak_rss_mb']:.0f} | "
                    f"{'yes' if entry['ok'] else 'no'} |")
    rows += ratio_lines(results)
    for name in ("full_build", "incremental_day"):
        stages = results["measures"].get(name, {}).get("stage_seconds")
        if stages:
            overhead = results["measures"][name]["flow_overhead_s"]
            rows.append(f"\n{name} stages (median s): " + ", ".join(f"{k} {v:.1f}" for k, v in stages.items())
                        + f"; flow overhead {overhead:.1f} (Prefect: {results['params']['prefect']})")
    phases = results["measures"].get("fair_floor", {}).get("stage_seconds")
    if phases:
        rows.append("\nfair_floor phases (median s): " + ", ".join(f"{k} {v:.1f}" for k, v in phases.items()))
    return "\n".join(rows)


def run(args: argparse.Namespace) -> dict[str, Any]:
    work = args.data_dir.resolve()
    report, history, extra = prepare_landing(args, work)
    first = date.fromisoformat(args.start)
    last, extra_day = first + timedelta(days=args.days - 1), first + timedelta(days=args.days)
    results: dict[str, Any] = {
        "params": {"scale": args.scale, "days": args.days, "repeats": args.repeats,
                   "full_repeats": args.full_repeats, "seed": args.seed,
                   "start": args.start, "skip": sorted(args.skip), "prefect": args.prefect},
        "machine": machine(),
        "generator": {"days": report["days"], "rows": report["total_rows"], "seconds": report["seconds"],
                      "rows_per_second": round(report["rows_per_second"]), "process": report.get("process")},
        "landed_rows": report["rows"],
        "touchpoints_landed": sum(report["rows"].get(k, 0) for k in TOUCHPOINT_SOURCES),
        "encounters": report["rows"].get("ehr/Encounter", 0),
        "measures": {},
    }
    measures: dict[str, Any] = results["measures"]
    server: dict[str, Any] = {}
    cpu_before = children_cpu_s()
    with prefect_api(args.prefect, work, server) as api_url:
        if "full" not in args.skip:
            measures["full_build"] = measure_full(args, work, history, last, api_url)
        full_ok = measures.get("full_build", {}).get("ok", False)
        if "full" in args.skip and kept_history(args, work):
            results["incremental_history"] = "the published history of an earlier full build (--skip full)"
        if "incremental" not in args.skip and (full_ok or ("full" in args.skip and kept_history(args, work))):
            measures["incremental_day"] = measure_incremental(args, work, extra, extra_day, api_url)
        elif "incremental" not in args.skip:
            results["incremental_skipped"] = "the full build did not publish, so there is no history to add a day to"
    if args.prefect == "server":
        # The server is a child too: once stopped and reaped, its CPU is the children's total less the flows'.
        flows_cpu = sum(sample["cpu_s"] for measure in measures.values() for sample in measure["samples"])
        server["cpu_s"] = round(children_cpu_s() - cpu_before - flows_cpu, 3)
        results["prefect_server"] = server
    floor_db, fair_db, pandas_out = work / "floor.duckdb", work / "fair_floor.duckdb", work / "pandas"
    if "floor" not in args.skip:
        measures["floor"] = measure_simple(args, work, "floor", [
            PYTHON, str(BENCH / "jobs.py"), "floor", "--landing", str(history), "--db", str(floor_db)])
    if "fair_floor" not in args.skip:
        report = work / "logs" / "fair_floor.json"
        measures["fair_floor"] = measure_simple(args, work, "fair_floor", [
            PYTHON, str(BENCH / "fair_floor.py"), "--landing", str(history), "--db", str(fair_db),
            "--out", str(report)], report)
    if "pandas" not in args.skip:
        measures["pandas"] = measure_simple(args, work, "pandas", [
            PYTHON, str(BENCH / "pandas_baseline.py"), str(history), str(pandas_out)])
    snapshot_wh = work / "runs" / "snapshot" / "warehouse" / "journey.duckdb"
    counts = warehouse_counts(snapshot_wh)
    results["warehouse_counts"] = counts
    results["touchpoints"] = counts.get("marts.fct_touchpoints") or results["touchpoints_landed"]
    for name in ("full_build", "incremental_day", "floor", "fair_floor", "pandas"):
        results[f"{name}_s"] = measures.get(name, {}).get("wall_s")
    # journey's peak (the goal's subject): the two flow measures; the pandas baseline's is its own row.
    flows = [measures[name]["peak_rss_mb"] for name in ("full_build", "incremental_day") if name in measures]
    results["peak_rss_mb"] = max(flows, default=None)
    results["goals"] = goals(results)
    results["ratios"] = ratios(results)
    if floor_db.is_file():
        results["agreement"] = agreement(floor_db, pandas_out, snapshot_wh if full_ok else None,
                                         fair_db if "fair_floor" in measures else None)
    results["machine"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    return results


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    # The default is the issue's: a year of a network with >= 10 M touchpoints (a year x 2.1: 11.4 M).
    # One full build there takes 13-15 min on 2 cores, so it runs once (--full-repeats) and every other
    # measure three times: about 27 min in all (bench/README.md). `make bench-quick` is 14 days x 0.2.
    parser.add_argument("--scale", type=float, default=2.1, help="generator scale (1.0 ≈ 950 encounters/day)")
    parser.add_argument("--days", type=int, default=365, help="days of history (one more day is the increment)")
    parser.add_argument("--repeats", type=int, default=3,
                        help="runs of the incremental day, the floors and pandas; the median is reported")
    parser.add_argument("--full-repeats", type=int, default=1, help="runs of the full build (the median is reported)")
    parser.add_argument("--out", type=Path, default=BENCH / "results" / "latest.json")
    parser.add_argument("--data-dir", type=Path, default=BENCH / "data")
    # a year in the past (2025-01-06 .. 2026-01-06, Mondays): a year ending after the run date has its
    # last weeks quarantined by the *_not_in_future rules, not a hospital's mix (the default was
    # 2026-01-05 until 2026-12-05: those results are future-dated, bench/README.md)
    parser.add_argument("--start", default="2025-01-06", help="first drop day")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--skip", nargs="*", default=[], choices=MEASURES, help="measures to leave out")
    parser.add_argument("--prefect", choices=PREFECT_MODES, default="server",
                        help="server: one long-running Prefect server for every flow run (the scheduled nightly "
                             "under `journey serve`); ephemeral: each flow starts Prefect's temporary API server "
                             "(a one-off `journey run`)")
    return parser.parse_args(argv)


#: bytes of disk a benchmark needs per landed day at scale 1.0 (peak, measured: 45 GB at 365 days x 1.9:
#: landing 15 GB, the full build's published warehouse and its snapshot 9 GB each, an incremental
#: day's restored history and its working copy 9 GB each)
DISK_BYTES_PER_DAY_SCALE = 0.07e9


def reusable_bytes(work: Path, args: argparse.Namespace) -> int:
    """Bytes of an earlier benchmark in ``work`` that this one reuses or replaces: the landing cache of
    the same parameters, and the files of runs/, the floor and pandas outputs that are not hard links
    (landing is linked into each run: removing a link to another cache frees nothing)."""
    sizes: dict[tuple[int, int], int] = {}  # by inode: a file linked twice counts once
    for part, linked_too in ((work / "landing" / landing_key(args), True), (work / "runs", False),
                             (work / "pandas", False), (work / "floor.duckdb", False),
                             (work / "fair_floor.duckdb", False)):
        files = [part] if part.is_file() else list(part.rglob("*")) if part.is_dir() else []
        for item in files:
            stat = item.lstat()
            if item.is_file() and not item.is_symlink() and (linked_too or stat.st_nlink == 1):
                sizes[(stat.st_dev, stat.st_ino)] = stat.st_size
    return sum(sizes.values())


def check_disk(args: argparse.Namespace) -> None:
    """Stop before generating anything when the data dir's disk cannot hold the run."""
    work = args.data_dir.resolve()
    work.mkdir(parents=True, exist_ok=True)
    needed = DISK_BYTES_PER_DAY_SCALE * (args.days + 1) * args.scale
    available = shutil.disk_usage(work).free + reusable_bytes(work, args)
    if available < needed:
        raise SystemExit(
            f"bench: {work} needs about {needed / 1e9:.0f} GB of disk for {args.days} days at scale {args.scale:g}, "
            f"{available / 1e9:.0f} GB is available (free plus an earlier benchmark's data there): free some, "
            "pass --data-dir on a larger disk, or run a smaller benchmark (make bench-quick)"
        )


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    args.skip = set(args.skip)
    check_disk(args)
    started = time.perf_counter()
    results = run(args)
    results["bench_wall_s"] = round(time.perf_counter() - started, 1)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2, default=str) + "\n", encoding="utf-8")
    print(markdown(results))
    print(f"results: {args.out}")


if __name__ == "__main__":
    main()
