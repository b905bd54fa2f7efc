"""Run dbt (dbt-duckdb) against the working copy, as a subprocess so a crash or kill cannot take the
orchestrator with it. Partial parsing stays on: the target dir persists under the data dir.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from journey.config import Settings, telemetry_off_env
from journey.errors import BuildFailed
from journey.mapping import code_map_vars
from journey.ops.children import dies_with_parent
from journey.warehouse.connection import connect_writer

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DbtResult:
    """What one dbt invocation did, from its run_results.json."""

    command: str
    succeeded: int
    failed: int
    warned: int
    skipped: int
    seconds: float
    failures: tuple[str, ...]


def dbt_executable() -> str:
    candidate = Path(sys.executable).with_name("dbt")
    return str(candidate) if candidate.exists() else "dbt"


def dbt_env(settings: Settings, database: Path) -> dict[str, str]:
    """dbt's environment: telemetry off; the warehouse named relative to dbt's working directory.

    dbt runs in the warehouse's folder and the profile names the file only (``journey.work.duckdb``),
    never its full path: dbt hashes the profile into its partial-parse state, so a path that differs
    per data dir (or a copy of the warehouse elsewhere) would cost a full re-parse on every run. An analyst
    running dbt by hand may still set an absolute path.
    """
    env = dict(os.environ)
    env.update(telemetry_off_env())
    env["JOURNEY_WAREHOUSE_PATH"] = database.name
    env["JOURNEY_DATA_DIR"] = str(settings.root.resolve())
    # profiles.yml gives dbt's DuckDB the same resource limits as journey's own connections
    env["JOURNEY_DUCKDB_MEMORY_LIMIT"] = settings.duckdb_memory_limit
    env["JOURNEY_DUCKDB_THREADS"] = str(settings.duckdb_threads)
    return env


def _summarise(command: str, target: Path) -> DbtResult:
    path = target / "run_results.json"
    if not path.is_file():
        return DbtResult(command, 0, 0, 0, 0, 0.0, ())
    payload = json.loads(path.read_text(encoding="utf-8"))
    counts = {"success": 0, "pass": 0, "error": 0, "fail": 0, "warn": 0, "skipped": 0}
    failures = []
    for result in payload.get("results", []):
        status = str(result.get("status"))
        if status == "success" and str(result.get("unique_id", "")).startswith("operation."):
            continue  # a project hook (on-run-end: the change-feed prune) that ran; not a node
        counts[status] = counts.get(status, 0) + 1
        if status in {"error", "fail"}:
            failures.append(f"{result.get('unique_id')}: {(result.get('message') or '').strip()}")
    return DbtResult(
        command=command,
        succeeded=counts["success"] + counts["pass"],
        failed=counts["error"] + counts["fail"],
        warned=counts["warn"],
        skipped=counts["skipped"],
        seconds=float(payload.get("elapsed_time", 0.0)),
        failures=tuple(failures),
    )


def dbt_vars(settings: Settings, vars: dict[str, object] | None = None) -> dict[str, object]:
    """The dbt vars journey's settings own (dbt_project.yml holds the same defaults), plus ``vars``."""
    return {"timezone": settings.timezone, "min_cell_size": settings.min_cell_size,
            "late_lookback_days": settings.late_lookback_days,
            "max_wait_hours": settings.thresholds.max_wait_hours,
            "earliest_plausible_date": settings.thresholds.earliest_plausible_date.isoformat(),
            "latest_plausible_date": settings.thresholds.latest_plausible_date.isoformat(),
            "department_sources": settings.department_sources.split(","), **code_map_vars(settings), **(vars or {})}


def nightly_build_args(*, rebuild: bool) -> tuple[str, ...]:
    """The nightly ``dbt build``: models, seeds and data tests; ``rebuild`` is a full refresh.

    dbt unit tests check SQL logic on fixed fixtures, not the night's data: they run in ``make test``
    (tests/integration/test_dbt_unit_tests.py), not on every nightly run, as dbt advises for production.
    """
    return ("build", "--exclude-resource-type", "unit_test", *(("--full-refresh",) if rebuild else ()))


def run_dbt(settings: Settings, database: Path, *args: str, vars: dict[str, object] | None = None) -> DbtResult:
    """Run ``dbt <args>`` on ``database``; raise BuildFailed naming the failing nodes."""
    target = settings.dbt_target_dir.resolve()
    target.mkdir(parents=True, exist_ok=True)
    (target / "run_results.json").unlink(missing_ok=True)
    project = str(settings.project_dir.resolve())
    merged_vars = dbt_vars(settings, vars)
    cmd = [
        dbt_executable(), *args,
        "--project-dir", project, "--profiles-dir", project,
        "--target-path", str(target), "--log-path", str(settings.dbt_log_dir.resolve()),
        "--vars", json.dumps(merged_vars),
    ]
    log.info("dbt %s", " ".join(args))
    proc = subprocess.run(cmd, env=dbt_env(settings, database), cwd=database.resolve().parent,
                          capture_output=True, text=True, check=False, preexec_fn=dies_with_parent())
    result = _summarise(" ".join(args), target)
    if proc.returncode != 0:
        detail = "\n".join(result.failures) or proc.stdout[-4000:] + proc.stderr[-2000:]
        raise BuildFailed(
            f"dbt {' '.join(args)} failed ({result.failed} node(s)); nothing was published.\n{detail}\n"
            f"Full log: {settings.dbt_log_dir / 'dbt.log'}"
        )
    log.info("dbt %s done", args[0], extra={"succeeded": result.succeeded, "warned": result.warned})
    return result


_STAGING_STATE_DDL = """
create schema if not exists ops;
create table if not exists ops.staging_state (fingerprint varchar not null, built_at timestamp not null);
"""


#: The stage step: the staging models and the seeds they read (the code map's defaults, the encounter
#: classes, the departments), no tests (the GX staging suites check the rows next).
STAGING_BUILD_ARGS = ("build", "--select", "+staging", "--resource-type", "model", "--resource-type", "seed")


def staging_fingerprint(settings: Settings) -> str:
    """The staging definition: models/staging, the macros, dbt_project.yml and journey's dbt vars."""
    return project_fingerprint(settings.project_dir, STAGING_INPUTS, json.dumps(dbt_vars(settings), sort_keys=True))


def _recorded_staging_fingerprint(settings: Settings, database: Path) -> str | None:
    conn = connect_writer(database, settings)
    try:
        conn.execute(_STAGING_STATE_DDL)
        row = conn.execute("select fingerprint from ops.staging_state").fetchone()
    finally:
        conn.close()
    return None if row is None else str(row[0])


def staging_is_current(settings: Settings, database: Path) -> bool:
    """True when the staging tables in ``database`` were built by this staging definition."""
    return _recorded_staging_fingerprint(settings, database) == staging_fingerprint(settings)


def run_staging(settings: Settings, database: Path, *, rebuild: bool = False) -> DbtResult:
    """``dbt run`` of the staging models, in full (``--full-refresh``) on ``rebuild`` or when their
    definition changed since the tables in ``database`` were built (an upgrade, an edited model or
    macro, another time zone): incremental tables only recompute changed keys, so a new column or
    rule would otherwise reach new rows only. Records the definition built in ``ops.staging_state``.
    """
    fingerprint = staging_fingerprint(settings)
    full = rebuild or _recorded_staging_fingerprint(settings, database) != fingerprint
    if full:
        log.info("staging definition changed or rebuild asked: staging tables rebuilt in full")
    result = run_dbt(settings, database, *STAGING_BUILD_ARGS, *(("--full-refresh",) if full else ()))
    conn = connect_writer(database, settings)
    try:
        conn.execute("delete from ops.staging_state")
        conn.execute("insert into ops.staging_state values (?, now()::timestamp)", [fingerprint])
    finally:
        conn.close()
    return result


DOCS_FILES = ("index.html", "static_index.html", "manifest.json", "catalog.json")


#: What shapes the docs site: every model, macro, seed, dbt test and analysis, and the project.
DOCS_INPUTS = ("models", "macros", "seeds", "tests/dbt", "analyses")
#: What shapes the staging tables' rows and columns.
STAGING_INPUTS = ("models/staging", "macros", "seeds")


def project_fingerprint(project_dir: Path, folders: tuple[str, ...] = DOCS_INPUTS, extra: str = "") -> str:
    """SHA-256 over dbt_project.yml, every file under ``folders`` and ``extra`` (e.g. the dbt vars)."""
    digest = hashlib.sha256(extra.encode())
    paths = [project_dir / "dbt_project.yml"]
    for folder in folders:
        paths += sorted(p for p in (project_dir / folder).rglob("*") if p.is_file())
    for path in paths:
        if path.is_file():
            digest.update(str(path.relative_to(project_dir)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def build_docs_site(settings: Settings, database: Path, *, force: bool = False) -> Path:
    """Generate the dbt docs site (lineage, every model and column) into ``site/dbt/``.

    Skipped when the site was built from the same project files (the nightly run then spends
    nothing on docs; row counts in the catalog refresh with the next model change or ``force``).
    """
    site = settings.site_dir / "dbt"
    stamp = site / ".project-sha256"
    fingerprint = project_fingerprint(settings.project_dir)
    if not force and (site / "index.html").is_file() and stamp.is_file() and stamp.read_text() == fingerprint:
        log.info("dbt docs site is current (project unchanged): not rebuilt", extra={"site": str(site)})
        return site / "index.html"
    run_dbt(settings, database, "docs", "generate", "--static")
    site.mkdir(parents=True, exist_ok=True)
    for name in DOCS_FILES:
        source = settings.dbt_target_dir / name
        if source.is_file():
            (site / name).write_bytes(source.read_bytes())
    stamp.write_text(fingerprint)
    return site / "index.html"
