"""The `journey` command: thin commands over the library. One place maps JourneyError to a clean
message and an exit code.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from datetime import date
from functools import wraps
from typing import Annotated, Any, TypeVar

import typer

from journey.config import Settings, apply_runtime_env
from journey.errors import JourneyError
from journey.logs import configure_logging

app = typer.Typer(
    help="journey: patient-journey analytics (Prefect + DuckDB + dbt + Great Expectations).\n\n"
    "Typical use: `journey generate` (demo data) → `journey backfill` → query the warehouse.",
    no_args_is_help=True,
    add_completion=False,
)
quarantine_app = typer.Typer(help="Inspect rows the pipeline refused to load.", no_args_is_help=True)
app.add_typer(quarantine_app, name="quarantine")

F = TypeVar("F", bound=Callable[..., Any])

EXAMPLE_QUERY = """select department_code, encounter_class,
       sum(encounters) as encounters,
       round(median(door_to_provider_p90_min), 1) as typical_daily_p90_door_to_provider_min
from marts.metrics_wait_daily
group by all order by encounters desc limit 10"""


def _settings(verbose: bool = False) -> Settings:
    settings = Settings()
    apply_runtime_env(settings)
    configure_logging(settings, verbose=verbose)
    return settings


def friendly(func: F) -> F:
    """Turn a JourneyError into its message on stderr and the error's exit code."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except JourneyError as error:
            typer.secho(f"error: {error}", fg=typer.colors.RED, err=True)
            raise typer.Exit(error.exit_code) from None

    return wrapper  # type: ignore[return-value]


Verbose = Annotated[bool, typer.Option("--verbose", "-v", help="Log every step to the console.")]


@app.command()
@friendly
def init() -> None:
    """Create the data folders and the pseudonymisation secret (if none is configured).

    Example: JOURNEY_DATA_DIR=/srv/journey journey init
    """
    settings = _settings()
    settings.ensure_dirs()
    existed = settings.default_secret_file.exists() or settings.secret is not None
    settings.pseudonym_key(create=True)
    where = "JOURNEY_SECRET" if settings.secret is not None else str(settings.default_secret_file)
    typer.echo(f"data dir:  {settings.root}")
    typer.echo(f"secret:    {where} ({'existing' if existed else 'created; back it up, keep it out of git'})")


@app.command()
@friendly
def generate(
    days: Annotated[int, typer.Option(help="Number of daily drops to write.")] = 90,
    start: Annotated[str, typer.Option(help="First day, YYYY-MM-DD.")] = "2026-01-05",
    scale: Annotated[float, typer.Option(help="1.0 = mid-size hospital (~1,000 encounters/day).")] = 1.0,
    seed: Annotated[int, typer.Option(help="Same seed, same bytes.")] = 42,
    defect_rate: Annotated[float, typer.Option(help="Share of rows given a realistic fault (0-1).")] = 0.0,
) -> None:
    """Write a demo hospital's daily drops into $JOURNEY_DATA_DIR/landing.

    Example: journey generate --days 7 --scale 0.05 --defect-rate 0.03
    """
    from journey.generate import generate as run_generator

    settings = _settings()
    settings.ensure_dirs()
    settings.pseudonym_key(create=True)
    report = run_generator(
        settings.landing_dir, settings.generator_dir, start=date.fromisoformat(start), days=days,
        scale=scale, seed=seed, defect_rate=defect_rate,
    )
    total = sum(report.rows.values())
    typer.echo(f"wrote {report.files} files, {total:,} rows over {report.days} days into {settings.landing_dir}")
    if report.defects:
        typer.echo("injected defects: " + ", ".join(f"{k}={v}" for k, v in sorted(report.defects.items())))


def _run_flow(
    run_date: date | None, start: date | None, end: date | None, verbose: bool, rebuild: bool = False,
    **options: Any,
) -> None:
    settings = _settings(verbose)
    settings.pseudonym_key(create=False)
    started = time.perf_counter()
    from flows.nightly import nightly

    try:
        result = nightly(run_date=run_date, start=start, end=end, rebuild=rebuild, **options)
    except JourneyError:
        raise
    except Exception as error:  # e.g. a stage timeout: still a clean message and a non-zero exit
        raise JourneyError(
            f"run failed: {type(error).__name__}: {error}\nThe published warehouse was not changed; "
            f"see {settings.log_dir / 'runs.jsonl'} and {settings.log_dir / 'journey.log'}."
        ) from error
    _print_summary(result, time.perf_counter() - started)


def _run_backfill(start: date | None, end: date | None, verbose: bool) -> None:
    settings = _settings(verbose)
    settings.pseudonym_key(create=False)
    started = time.perf_counter()
    from flows.nightly import backfill as backfill_flow

    results = backfill_flow(start=start, end=end)
    for result in results:
        # Each run's own time (its stages), not the time since the backfill began.
        stage_seconds: dict[str, float] = result["stage_seconds"]  # type: ignore[assignment]
        _print_summary(result, sum(stage_seconds.values()))
    if not results:
        typer.echo("nothing to backfill: every landed day is already published")
    else:
        typer.echo(f"backfill: {len(results)} run(s) published in {time.perf_counter() - started:.0f}s")


def _print_summary(result: dict[str, Any], seconds: float) -> None:
    days = result["days"]
    span = f"{days[0]} … {days[-1]}" if days else "no new files"
    typer.echo(f"run {result['run_id']}: {result['status']} in {seconds:.0f}s ({span})")
    typer.echo(
        f"  files {result['files']}, rows read {result['rows_read']:,}, loaded {result['rows_loaded']:,}, "
        f"quarantined {result['rows_quarantined']:,}"
    )
    typer.echo(f"  checks passed {result['checks_passed']}, failed {result['checks_failed']}")
    stages = ", ".join(f"{k} {v:.1f}s" for k, v in result["stage_seconds"].items())
    typer.echo(f"  stages: {stages}")
    typer.echo(f"  warehouse: {result['warehouse']}")


def _day(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


@app.command()
@friendly
def run(
    date_: Annotated[
        str | None, typer.Option("--date", help="Run date (YYYY-MM-DD); default: last landed day.")
    ] = None,
    verbose: Verbose = False,
    rebuild: Annotated[
        bool, typer.Option("--rebuild", help="Rebuild and republish the marts even if nothing new landed.")
    ] = False,
) -> None:
    """Run the nightly flow for one date: load that day's drop and any late files for earlier days.

    Example: journey run --date 2026-03-01
             journey run --rebuild          # after a model change: same raw data, marts rebuilt
    """
    _run_flow(_day(date_), None, None, verbose, rebuild)


@app.command()
@friendly
def backfill(
    start: Annotated[str | None, typer.Option(help="First drop day (YYYY-MM-DD).")] = None,
    end: Annotated[str | None, typer.Option(help="Last drop day (YYYY-MM-DD).")] = None,
    verbose: Verbose = False,
) -> None:
    """Process every landed day not yet processed (or those between --start and --end), in order.

    Runs of JOURNEY_BACKFILL_DAYS_PER_RUN days (default 31), each published; after a failure, run it
    again and it resumes at the first unpublished day.

    Example: journey backfill            # catch up on everything landed
             journey backfill --start 2026-01-05 --end 2026-01-31
    """
    _run_backfill(_day(start), _day(end), verbose)


@app.command()
@friendly
def serve(verbose: Verbose = False) -> None:
    """Run the nightly flow on its schedule, as a Prefect deployment served by this process.

    Cron JOURNEY_SCHEDULE_CRON (default "0 2 * * *") in JOURNEY_TIMEZONE; one run at a time.
    Uses the Prefect server in PREFECT_API_URL (or a temporary local one). Stop with Ctrl-C.

    Example: PREFECT_API_URL=http://127.0.0.1:4200/api journey serve
    """
    settings = _settings(verbose)
    settings.ensure_dirs()
    settings.pseudonym_key(create=False)
    from flows.deploy import FULL_NAME, serve_nightly

    typer.echo(f"serving {FULL_NAME}: cron '{settings.schedule_cron}' ({settings.timezone}), one run at a time")
    serve_nightly(settings)


@app.command()
@friendly
def sql(query: Annotated[str, typer.Argument(help="SQL to run read-only on the published warehouse.")]) -> None:
    """Run a read-only query against the published warehouse and print the result.

    Example: journey sql "select count(*) from marts.fct_encounters"
    """
    from journey.warehouse.connection import connect_reader

    settings = _settings()
    if not settings.warehouse_path.exists():
        raise JourneyError(f"No published warehouse at {settings.warehouse_path}: run `journey backfill` first.")
    conn = connect_reader(settings.warehouse_path)
    try:
        conn.sql(query).show(max_width=200, max_rows=50)
    finally:
        conn.close()


@app.command()
@friendly
def info() -> None:
    """Where everything is, and an example query to start from."""
    settings = _settings()
    typer.echo(f"warehouse:  {settings.warehouse_path}")
    typer.echo(f"dbt docs:   {settings.site_dir / 'dbt' / 'index.html'}")
    typer.echo(f"landing:    {settings.landing_dir}")
    typer.echo(f"logs:       {settings.log_dir}")
    typer.echo("example:    duckdb -readonly " + str(settings.warehouse_path))
    typer.echo(EXAMPLE_QUERY)


@app.command()
@friendly
def report(
    out: Annotated[str | None, typer.Option("--out", help="Write here instead of site/report/index.html.")] = None,
) -> None:
    """Build the static dashboard (one self-contained HTML file, opens offline) from the published warehouse.

    Charts: KPIs vs target, door-to-provider p50/p90 trends, ED hour × weekday heatmap, NPS and top-box,
    NPS by wait quartile, cohort retention, follow-up and complaint SLAs, campaign funnel and attribution.

    Example: journey report && xdg-open "$JOURNEY_DATA_DIR/site/report/index.html"
    """
    from pathlib import Path

    from journey.report.build import build_report

    settings = _settings()
    result = build_report(settings, out=Path(out) if out else None)
    typer.echo(f"dashboard: {result.path} ({result.size_bytes / 1e6:.1f} MB, {len(result.charts)} charts)")
    for key, reason in result.unavailable.items():
        typer.secho(f"  {key}: {reason}", fg=typer.colors.YELLOW)


@app.command()
@friendly
def worklist(
    date_: Annotated[
        str | None, typer.Option("--date", help="Worklist date (YYYY-MM-DD); lists the day before. Default: today.")
    ] = None,
    out: Annotated[str | None, typer.Option("--out", help="CSV path (default: worklist/worklist-<date>.csv).")] = None,
) -> None:
    """Write the service-recovery worklist: the previous day's detractors, bottom-box answers and complaints.

    One row per survey response (NPS 0-6, overall rating 0-6, or an item answered never/sometimes) or
    complaint, with department, waits, a scrubbed comment excerpt and the encounter id to look up in
    the EHR. No patient identity.

    Example: journey worklist --date 2026-03-02     # rows about 2026-03-01
    """
    from datetime import datetime
    from pathlib import Path
    from zoneinfo import ZoneInfo

    from journey.report.worklist import write_worklist

    settings = _settings()
    run_date = _day(date_) or datetime.now(ZoneInfo(settings.timezone)).date()
    path, frame = write_worklist(settings, run_date, Path(out) if out else None)
    counts = frame["source"].value_counts().to_dict() if len(frame) else {}
    typer.echo(
        f"worklist {path}: {len(frame)} rows "
        f"({counts.get('survey', 0)} survey responses, {counts.get('complaint', 0)} complaints)"
    )


@app.command()
@friendly
def docs(
    serve: Annotated[bool, typer.Option("--serve", help="Serve site/ on 127.0.0.1 until Ctrl-C.")] = False,
    port: Annotated[int, typer.Option(help="Port for --serve (0 = any free port).")] = 8080,
    skip_dbt: Annotated[bool, typer.Option("--skip-dbt", help="Do not regenerate the dbt docs.")] = False,
) -> None:
    """Build the dbt docs site (site/dbt/), link the GX Data Docs (site/quality/<stage>/) and the dashboard
    from site/index.html; with --serve, serve them on 127.0.0.1.

    Example: journey docs --serve --port 8080     # then open http://127.0.0.1:8080/
    """
    from journey.report.docs_site import build_docs, make_server

    settings = _settings()
    result = build_docs(settings, dbt=not skip_dbt)
    typer.echo(f"sites:     {result.index}")
    typer.echo(f"dbt docs:  {result.dbt or 'not built'}")
    for stage, path in result.quality.items():
        typer.echo(f"quality:   {stage}: {path}")
    if not result.quality:
        typer.echo("quality:   no GX Data Docs yet (the next `journey run` writes them)")
    if serve:
        server = make_server(settings.site_dir, port)
        host, bound = str(server.server_address[0]), int(server.server_address[1])
        typer.echo(f"serving {settings.site_dir} on http://{host}:{bound}/ (Ctrl-C stops)")
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()


@quarantine_app.command("list")
@friendly
def quarantine_list(
    limit: Annotated[int, typer.Option(help="Rows to show.")] = 50,
) -> None:
    """Show quarantined rows: file, row number, rule, detail.

    Example: journey quarantine list --limit 20
    """
    from journey.warehouse.connection import connect_reader

    settings = _settings()
    if not settings.warehouse_path.exists():
        raise JourneyError(f"No published warehouse at {settings.warehouse_path}.")
    conn = connect_reader(settings.warehouse_path)
    try:
        conn.execute(
            """select _source_file as file, _row_number as row, rule, detail from quarantine.rows
               where replayed_at is null order by _source_file, _row_number limit ?""",
            [limit],
        )
        rows = conn.fetchall()
    finally:
        conn.close()
    for file, row, rule, detail in rows:
        typer.echo(f"{file}:{row}  {rule}  {detail or ''}")
    if not rows:
        typer.echo("quarantine is empty")


@quarantine_app.command("replay")
@friendly
def quarantine_replay(
    file: Annotated[str | None, typer.Option("--file", help="Only rows of this landed file (as listed).")] = None,
    rule: Annotated[str | None, typer.Option("--rule", help="Only rows refused by this rule.")] = None,
    verbose: Verbose = False,
) -> None:
    """Re-validate quarantined rows after what refused them is fixed, and publish.

    Rows refused by a quality rule (unknown code, implausible value, future timestamp) go back into
    raw and through every check again: fixed ones load, the rest return to quarantine. Rows the
    loader refused (malformed line, missing required field) need the corrected file: land it at the
    same path and the next run replaces the earlier version.

    Examples:
      journey quarantine replay
      journey quarantine replay --rule review_not_in_future
      journey quarantine replay --file relations/2026-03-01/reviews.jsonl
    """
    _run_flow(None, None, None, verbose, replay=True, replay_file=file, replay_rule=rule)


@app.command("privacy-scan")
@friendly
def privacy_scan(
    needles: Annotated[
        str | None,
        typer.Option(help="Needles file: CSV/JSONL/Parquet with columns kind,value, or the generator's "
                     "identities.parquet (default: $JOURNEY_DATA_DIR/generator/identities.parquet)."),
    ] = None,
    warehouse: Annotated[str | None, typer.Option(help="DuckDB file to scan (default: the published one).")] = None,
    birth_dates_before: Annotated[
        str | None, typer.Option(help="Ignore birth dates on or after this day (YYYY-MM-DD): they collide with "
                                 "ordinary event dates. Default for the demo: two years before its first day.")
    ] = None,
) -> None:
    """Search the warehouse (every column of every table) and every log, dbt and site file for known
    identifiers; exit 1 naming table, column and a sample for each hit. The secret is always a needle.

    Example: journey privacy-scan --needles sample_identities.csv     # columns kind,value
    """
    import json
    from datetime import timedelta
    from pathlib import Path

    from journey.privacy.scan import data_dir_folders, load_needles, scan, secret_needles

    settings = _settings()
    path = Path(needles) if needles else settings.generator_dir / "identities.parquet"
    if not path.is_file():
        raise JourneyError(f"No needles file at {path}: pass --needles (CSV with columns kind,value).")
    before = _day(birth_dates_before)
    generation = settings.generator_dir / "generation.json"
    if before is None and needles is None and generation.is_file():
        start = json.loads(generation.read_text(encoding="utf-8"))["parameters"]["start"]
        before = date.fromisoformat(start) - timedelta(days=730)
    try:
        found = load_needles(path, birth_dates_before=before)
    except ValueError as error:
        raise JourneyError(str(error)) from None
    try:
        found += secret_needles(settings.pseudonym_key())
    except JourneyError:
        typer.secho("no secret configured: scanning for identities only", fg=typer.colors.YELLOW, err=True)
    target = Path(warehouse) if warehouse else settings.warehouse_path
    if not target.is_file():
        raise JourneyError(f"No warehouse at {target}: run `journey backfill` first or pass --warehouse.")
    result = scan(found, warehouse=target, folders=data_dir_folders(settings))
    typer.echo(result.summary())
    if not result.clean:
        raise typer.Exit(1)


@app.command()
@friendly
def retention(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="List what would be deleted; delete nothing.")] = False,
    days: Annotated[
        int | None, typer.Option(help="Override JOURNEY_LANDING_RETENTION_DAYS for this pass (0 = keep all).")
    ] = None,
) -> None:
    """Delete landed files (they hold PII) once loaded into the published warehouse and older than
    the retention period (JOURNEY_LANDING_RETENTION_DAYS, default 30). One log record per file.

    Example: journey retention --dry-run
    """
    from journey.privacy.retention import apply_retention

    settings = _settings()
    result = apply_retention(settings, dry_run=dry_run, retention_days=days)
    for item in result.deleted:
        typer.echo(f"{'would delete' if dry_run else 'deleted'} {item.relative_path} "
                   f"(drop {item.landing_date}, loaded {item.loaded_on})")
    typer.echo(result.summary())


def main() -> None:  # pragma: no cover - console entry
    sys.exit(app())


if __name__ == "__main__":  # pragma: no cover
    main()
