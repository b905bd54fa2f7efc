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


def _run_flow(run_date: date | None, start: date | None, end: date | None, verbose: bool) -> None:
    settings = _settings(verbose)
    settings.pseudonym_key(create=False)
    started = time.perf_counter()
    from flows.nightly import nightly

    result = nightly(run_date=run_date, start=start, end=end)
    _print_summary(result, time.perf_counter() - started)


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
) -> None:
    """Run the nightly flow for one date: load that day's drop and any late files for earlier days.

    Example: journey run --date 2026-03-01
    """
    _run_flow(_day(date_), None, None, verbose)


@app.command()
@friendly
def backfill(
    start: Annotated[str | None, typer.Option(help="First drop day (YYYY-MM-DD).")] = None,
    end: Annotated[str | None, typer.Option(help="Last drop day (YYYY-MM-DD).")] = None,
    verbose: Verbose = False,
) -> None:
    """Process every landed day not yet processed (or those in [start, end]), in order, in one run.

    Example: journey backfill            # catch up on everything landed
             journey backfill --start 2026-01-05 --end 2026-01-31
    """
    _run_flow(None, _day(start), _day(end), verbose)


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


def main() -> None:  # pragma: no cover - console entry
    sys.exit(app())


if __name__ == "__main__":  # pragma: no cover
    main()
