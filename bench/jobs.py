"""The measured jobs, each run by bench/run.py in its own process (so wall, CPU and peak RSS are its own).

    python bench/jobs.py generate --landing L --record R --start 2026-01-05 --days 366 --scale 1 --out gen.json
    python bench/jobs.py flow --data-dir D --end 2026-12-31 [--run-date 2027-01-01] --out flow.json
    python bench/jobs.py floor --landing L --db floor.duckdb
"""

from __future__ import annotations

import argparse
import json
import os
import time
from dataclasses import asdict
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import duckdb

BENCH = Path(__file__).resolve().parent
FLOOR_READ_SQL = BENCH / "floor_read.sql"
FLOOR_SQL = BENCH / "floor.sql"


def generate_job(args: argparse.Namespace) -> None:
    from journey_demo import generate

    report = generate(args.landing, args.record, start=date.fromisoformat(args.start), days=args.days,
                      scale=args.scale, seed=args.seed)
    payload = {**asdict(report), "total_rows": report.total_rows, "rows_per_second": report.rows_per_second}
    args.out.write_text(json.dumps(payload, indent=2), encoding="utf-8")


def _last_run_record(data_dir: Path) -> dict[str, Any]:
    runs = data_dir / "logs" / "runs.jsonl"
    lines = runs.read_text(encoding="utf-8").splitlines() if runs.is_file() else []
    return json.loads(lines[-1]) if lines else {}


def flow_job(args: argparse.Namespace) -> None:
    """The nightly flow as `journey run` calls it: settings and runtime env first, then the flow."""
    started = time.perf_counter()
    os.environ["JOURNEY_DATA_DIR"] = str(args.data_dir)
    from journey.config import Settings, apply_runtime_env

    apply_runtime_env(Settings())
    from flows.nightly import nightly

    imported = time.perf_counter()
    run_date = date.fromisoformat(args.run_date) if args.run_date else None
    # bench/run.py passes PREFECT_API_URL with --prefect server; without it Prefect starts its temporary API.
    payload: dict[str, Any] = {"import_s": round(imported - started, 3),
                               "prefect_api": os.environ.get("PREFECT_API_URL", "ephemeral")}
    try:
        result = nightly(run_date=run_date, end=date.fromisoformat(args.end), docs=not args.no_docs)
        payload.update(status=str(result["status"]), stage_seconds=result["stage_seconds"],
                       rows_loaded=result["rows_loaded"], files=result["files"])
    except Exception as error:  # the run record still has the stage timings up to the failure
        record = _last_run_record(args.data_dir)
        payload.update(status="failed", stage_seconds=record.get("stage_seconds", {}),
                       failed_stage=record.get("stage"), reason=str(error).splitlines()[0][:500])
    payload["flow_s"] = round(time.perf_counter() - imported, 3)
    args.out.write_text(json.dumps(payload, indent=2, default=str), encoding="utf-8")
    if payload["status"] != "succeeded":
        raise SystemExit(1)


def floor_connection(db: Path, landing: Path) -> duckdb.DuckDBPyConnection:
    """A fresh database file with journey's DuckDB limits (threads, memory), relative paths in landing."""
    import duckdb

    db.unlink(missing_ok=True)
    conn = duckdb.connect(str(db), config={"threads": int(os.environ.get("JOURNEY_DUCKDB_THREADS", "2"))})
    conn.execute("set memory_limit = ?", [os.environ.get("JOURNEY_DUCKDB_MEMORY_LIMIT", "4GB")])
    conn.execute("set file_search_path = ?", [str(landing)])
    return conn


def floor_job(args: argparse.Namespace) -> None:
    """bench/floor_read.sql + floor.sql on a fresh database file (the fair floor: bench/fair_floor.py)."""
    conn = floor_connection(args.db, args.landing)
    conn.execute(FLOOR_READ_SQL.read_text(encoding="utf-8"))
    conn.execute(FLOOR_SQL.read_text(encoding="utf-8"))
    conn.close()


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    jobs = root.add_subparsers(dest="job", required=True)
    gen = jobs.add_parser("generate")
    gen.add_argument("--landing", type=Path, required=True)
    gen.add_argument("--record", type=Path, required=True)
    gen.add_argument("--start", required=True)
    gen.add_argument("--days", type=int, required=True)
    gen.add_argument("--scale", type=float, required=True)
    gen.add_argument("--seed", type=int, default=42)
    gen.add_argument("--out", type=Path, required=True)
    gen.set_defaults(run=generate_job)
    flow = jobs.add_parser("flow")
    flow.add_argument("--data-dir", type=Path, required=True)
    flow.add_argument("--end", required=True)
    flow.add_argument("--run-date")
    flow.add_argument("--no-docs", action="store_true")
    flow.add_argument("--out", type=Path, required=True)
    flow.set_defaults(run=flow_job)
    floor = jobs.add_parser("floor")
    floor.add_argument("--landing", type=Path, required=True)
    floor.add_argument("--db", type=Path, required=True)
    floor.set_defaults(run=floor_job)
    return root


if __name__ == "__main__":
    arguments = parser().parse_args()
    arguments.run(arguments)
