"""The `journey` command: thin commands over the library. One place (``friendly``) maps JourneyError
to a clean message (what went wrong, where, what to do next) and an exit code; every command that
does work ends with a closing summary (journey.console); long steps draw a progress bar on a
terminal (journey.progress).

Exit codes: 0 done; 1 the command failed (message on stderr); 2 bad usage or configuration;
3 another run holds the warehouse lock.
"""

from __future__ import annotations

import inspect
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from functools import wraps
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from journey import console
from journey.config import Settings, apply_runtime_env
from journey.errors import ConfigError, JourneyError, MissingInput, UsageError
from journey.logs import configure_logging
from journey.progress import Bar, follow_runs, pending_days, progress, split_runs


def _examples(*lines: str) -> str:
    """An epilog: ``Examples:`` then one command per line."""
    return "Examples:\n\n" + "\n".join(f"  {line}" for line in lines)


app = typer.Typer(
    help="journey: patient-journey analytics (Prefect + DuckDB + dbt + Great Expectations).\n\n"
    "Typical use: `journey init` → `journey generate` (demo data) → `journey backfill` → query the warehouse "
    "(`journey sql`, `journey report`). Every path lives under $JOURNEY_DATA_DIR (default ./data); "
    "`journey info` shows where. Exit codes: 0 done, 1 failed, 2 bad usage or setting, 3 another run is writing.",
    epilog=_examples(
        "journey init && journey generate --days 30 --scale 0.2",
        "journey backfill                  # load, check, publish every landed day",
        'journey sql "select * from marts.metrics_wait_daily limit 5"',
        "journey run --help                # each command: help and examples",
    ),
    no_args_is_help=True,
    add_completion=False,
)
quarantine_app = typer.Typer(
    help="Inspect rows the pipeline refused to load, and re-validate them after a fix.",
    epilog=_examples("journey quarantine list --limit 20", "journey quarantine replay --rule review_not_in_future"),
    no_args_is_help=True,
)
app.add_typer(quarantine_app, name="quarantine")

F = TypeVar("F", bound=Callable[..., Any])

EXAMPLE_QUERY = """select department_code, encounter_class,
       sum(encounters) as encounters,
       round(median(door_to_provider_p90_min), 1) as typical_daily_p90_door_to_provider_min
from marts.metrics_wait_daily
group by all order by encounters desc limit 10"""


def _settings(verbose: bool = False, *, need_data: bool = False, need_init: bool = False) -> Settings:
    """The settings from the environment; with ``need_data``, the data dir must already exist, with
    ``need_init`` also be set up by `journey init` (checked before anything is written there)."""
    from pydantic import ValidationError

    try:
        settings = Settings()
    except ValidationError as error:
        problems = "; ".join(
            f"JOURNEY_{'__'.join(str(part) for part in item['loc']).upper()}: {item['msg']}"
            for item in error.errors()
        )
        raise ConfigError(f"invalid setting: {problems}.") from None
    if need_data and not settings.root.is_dir():
        # A setting that points nowhere: exit 2, with the way to start a data dir
        raise ConfigError(
            f"No data dir at {settings.root} (JOURNEY_DATA_DIR={os.environ.get('JOURNEY_DATA_DIR', 'unset: ./data')}).",
            hint=MissingInput.hint,
        )
    if need_init and not settings.landing_dir.is_dir():
        raise ConfigError(f"{settings.root} is not set up for journey yet (no {settings.landing_dir.name}/ folder).",
                          hint="Run `journey init` there first (or set JOURNEY_DATA_DIR to your data dir).")
    apply_runtime_env(settings)
    configure_logging(settings, verbose=verbose)
    return settings


def _log_file() -> Path | None:
    try:
        return Settings().log_dir / "journey.log"
    except Exception:  # noqa: BLE001 - the error being reported may be the settings themselves
        return None


def _reflow(doc: str | None) -> str | None:
    """A docstring for --help: paragraphs kept, line breaks inside a paragraph joined."""
    if doc is None:
        return None
    return "\n\n".join(" ".join(part.split()) for part in inspect.cleandoc(doc).split("\n\n"))


def friendly(func: F) -> F:
    """Turn a JourneyError into what/where/next on stderr and the error's exit code (and reflow the
    command's docstring for --help)."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except JourneyError as error:
            typer.secho(console.error_text(error, _log_file()), fg=typer.colors.RED, err=True)
            raise typer.Exit(error.exit_code) from None

    wrapper.__doc__ = _reflow(func.__doc__)
    return wrapper  # type: ignore[return-value]


Verbose = Annotated[bool, typer.Option("--verbose", "-v", help="Log every step to the console (no progress bar).")]


def parse_day(value: str | date) -> date:
    """A YYYY-MM-DD option; anything else is a usage error (exit 2) saying what is wrong with it."""
    if isinstance(value, date):
        return value
    text = value.strip()
    parts = text.split("-")
    if len(parts) != 3 or not all(part.isdigit() for part in parts) or len(parts[0]) != 4:
        raise typer.BadParameter(f"{text!r} is not a date: write it as YYYY-MM-DD, e.g. 2026-03-01.")
    try:
        return date(int(parts[0]), int(parts[1]), int(parts[2]))
    except ValueError as error:
        raise typer.BadParameter(f"{text} is not a day of the calendar ({error}); write YYYY-MM-DD.") from None


@contextmanager
def _bar(description: str, total: int | None, unit: str, verbose: bool) -> Iterator[Bar]:
    with progress(description, total, unit=unit, enabled=not verbose) as bar:
        yield bar


@app.command(epilog=_examples(
    "journey init",
    "JOURNEY_DATA_DIR=/srv/journey journey init   # a data dir elsewhere",
))
@friendly
def init() -> None:
    """Create the data folders and the pseudonymisation secret (if none is configured); check the
    site's code mapping file if there is one."""
    from journey.mapping import code_map_path, load_code_map

    settings = _settings()
    settings.ensure_dirs()
    existed = settings.default_secret_file.exists() or settings.secret is not None
    settings.pseudonym_key(create=True)
    where = "JOURNEY_SECRET" if settings.secret is not None else str(settings.default_secret_file)
    typer.echo(f"data dir:  {settings.root}")
    typer.echo(f"secret:    {where} ({'existing' if existed else 'created; back it up, keep it out of git'})")
    code_map = load_code_map(settings)  # a bad mapping file stops here, naming its line
    typer.echo(f"mapping:   {code_map_path(settings)} "
               f"({f'{len(code_map.entries)} site mapping(s)' if code_map.path else 'absent: built-in defaults only'})")
    typer.echo("next:      `journey generate` (demo drops) or land real drops in "
               f"{settings.landing_dir}/<source>/<YYYY-MM-DD>/, then `journey backfill`")


@app.command(epilog=_examples(
    "journey generate                          # 90 days, a mid-size hospital",
    "journey generate --days 7 --scale 0.05    # a small clinic, fast",
    "journey generate --defect-rate 0.03       # with realistic faults",
    "journey generate --start 2026-03-01 --seed 7",
    "journey generate --profile minimal --days 14   # shaped like a real FHIR bulk export",
))
@friendly
def generate(
    days: Annotated[int, typer.Option(min=1, metavar="N", help="Number of daily drops to write.")] = 90,
    start: Annotated[
        date,
        typer.Option(parser=parse_day, metavar="YYYY-MM-DD", show_default="2026-01-05", help="First day."),
    ] = date(2026, 1, 5),
    scale: Annotated[
        float, typer.Option(min=0.001, metavar="X", help="1.0 = mid-size hospital (~1,000 encounters/day).")
    ] = 1.0,
    seed: Annotated[int, typer.Option(metavar="N", help="Same seed, same bytes.")] = 42,
    defect_rate: Annotated[
        float, typer.Option(min=0.0, max=0.99, metavar="RATE", help="Share of rows given a realistic fault (0-1).")
    ] = 0.0,
    profile: Annotated[
        str, typer.Option("--profile", metavar="NAME",
                          help="full: every source of the contract; minimal: what FHIR bulk exports typically "
                               "hold (EHR only, encounters with only period, conditional references, other "
                               "classes, Bulk Data file names and export log).")
    ] = "full",
) -> None:
    """Write a demo hospital's daily drops into $JOURNEY_DATA_DIR/landing (FHIR NDJSON, CSV, JSONL).

    Also writes generator/defects.jsonl (every injected fault, with file and row) and
    generator/identities.parquet (the planted identifiers `journey privacy-scan` looks for).
    """
    from journey_demo import PROFILES
    from journey_demo import generate as run_generator

    if profile not in PROFILES:
        raise UsageError(f"--profile {profile!r} is not one of {', '.join(PROFILES)}.")
    if profile == "minimal" and defect_rate:
        raise UsageError("--profile minimal writes clean data: drop --defect-rate.")
    settings = _settings()
    settings.ensure_dirs()
    settings.pseudonym_key(create=True)
    first = start
    with _bar(f"simulating from {first}", days, "days", verbose=False) as bar:
        report = run_generator(
            settings.landing_dir, settings.generator_dir, start=first, days=days,
            scale=scale, seed=seed, defect_rate=defect_rate, on_day=lambda _done: bar.advance(), profile=profile,
        )
    last = first + timedelta(days=days - 1)
    typer.echo(console.generation_summary(report, first.isoformat(), last.isoformat(), settings).render())


@app.command("profile", epilog=_examples(
    "journey profile data/landing              # every drop landed so far",
    "journey profile /srv/export/2026-03-01    # one drop, before loading it",
    "journey profile data/landing --json > profile.json",
))
@friendly
def profile_command(
    landing: Annotated[Path, typer.Argument(metavar="LANDING_DIR", help="A landing dir, a source folder or one drop.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the profile as JSON.")] = False,
) -> None:
    """Before anything is loaded: what an export can and cannot feed.

    Per source and resource type: lines, contract elements present (coverage %), date range, class /
    department / disposition codes with counts and whether the site's code map (mapping/code_map.csv)
    maps them, implausible or future dates, lines that are not resources, and which metrics can be
    computed and why not. Prints codes, counts and dates only, never an identifier.
    """
    import json

    from journey.profile import profile_landing, render

    result = profile_landing(landing, _settings())
    typer.echo(json.dumps(result.to_dict(), indent=2, ensure_ascii=False) if as_json else render(result))


def _flow_failed(settings: Settings, error: Exception) -> JourneyError:
    """A failure that is not a JourneyError (e.g. a stage timeout): still a clean message and exit 1.
    The hint fits the failure: a file or folder the run could not read is not a timeout."""
    record = f"The published warehouse was not changed. The run record is in {settings.log_dir / 'runs.jsonl'}; "
    if isinstance(error, OSError) and not isinstance(error, TimeoutError):
        where = f" {error.filename}" if error.filename else ""
        action = ("give the user running journey read access to" if isinstance(error, PermissionError)
                  else "check (it may have been moved, deleted or be a link loop)")
        hint = record + f"{action}{where}, then run again (`--verbose` logs every step)."
    else:
        hint = record + ("raise the stage's JOURNEY_TIMEOUTS__<STAGE> if it timed out, then run again "
                         "(`--verbose` logs every step).")
    return JourneyError(f"run failed: {type(error).__name__}: {error}", hint=hint)


def _quiet_libraries(verbose: bool) -> None:
    """Keep Prefect's and other libraries' console logs (tracebacks of the error journey reports
    cleanly anyway) off the terminal unless --verbose; journey's own warnings still print."""
    if not verbose:
        os.environ.setdefault("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", "CRITICAL")


def _run_settings(verbose: bool) -> Settings:
    """The settings of a run or backfill: an initialised data dir (landing/ and a secret), quiet libraries."""
    settings = _settings(verbose, need_data=True, need_init=True)
    settings.pseudonym_key(create=False)
    _quiet_libraries(verbose)
    return settings


def _say_waiting(holder: str, wait_seconds: float) -> None:
    typer.secho(f"waiting: {holder} holds the warehouse lock; this run waits up to {wait_seconds:.0f} s "
                "(JOURNEY_RUN_LOCK_WAIT_SECONDS), then exits 3", fg=typer.colors.YELLOW, err=True)


def _quiet_night(settings: Settings, run_date: date | None) -> dict[str, object] | None:
    """Without a Prefect server, a night with nothing new is recorded as skipped without importing
    Prefect or the flow (journey.ops.quiet); None: there is work, the flow runs."""
    from journey.ops.prefect_server import api_configured
    from journey.ops.quiet import quiet_night

    return None if api_configured() else quiet_night(settings, run_date)


def _run_flow(run_date: date | None, verbose: bool, rebuild: bool = False, **options: Any) -> None:
    settings = _run_settings(verbose)
    started = time.perf_counter()
    from journey.ops.guard import run_lock

    # The lock first: a second run says at once whom it waits for, before any Prefect start-up.
    with run_lock(settings, run_date, on_wait=_say_waiting):
        result = _quiet_night(settings, run_date) if not rebuild and not options else None
        if result is None:
            from flows.nightly import nightly
            from flows.runner import run_flow

            days = split_runs(pending_days(settings, run_date=run_date), per_run=None)
            try:
                with _bar("starting the run", 100, "%", verbose) as bar, follow_runs(bar, days):
                    result = run_flow(nightly, run_date=run_date, rebuild=rebuild, **options)
            except JourneyError:
                raise
            except Exception as error:
                raise _flow_failed(settings, error) from error
    typer.echo(console.run_summary(result, time.perf_counter() - started, settings).render())
    if result["status"] == "degraded":
        from journey.runs import DEGRADED_EXIT_CODE

        raise typer.Exit(DEGRADED_EXIT_CODE)


@app.command(epilog=_examples(
    "journey run                     # the last landed day, and late files",
    "journey run --date 2026-03-01",
    "journey run --rebuild           # after a model or seed change",
))
@friendly
def run(
    date_: Annotated[
        date | None,
        typer.Option("--date", parser=parse_day, metavar="YYYY-MM-DD",
                     help="Run date; default: the last landed day."),
    ] = None,
    verbose: Verbose = False,
    rebuild: Annotated[
        bool, typer.Option("--rebuild", help="Rebuild and republish the marts even if nothing new landed.")
    ] = False,
) -> None:
    """Run the nightly flow for one date: load that day's drop and any late files for earlier days,
    check, build the marts, publish.

    A failed run leaves the published warehouse untouched. Ends with a summary: files, rows read,
    loaded and quarantined, checks, time per stage, and where to look. Exit code 0: succeeded (or
    nothing new); 4: published but degraded (run health, see the summary's reason); 1: failed.
    """
    _run_flow(date_, verbose, rebuild)


@app.command(epilog=_examples(
    "journey backfill                   # catch up on everything landed",
    "journey backfill --start 2026-01-05 --end 2026-01-31",
    "JOURNEY_BACKFILL_DAYS_PER_RUN=7 journey backfill   # publish every 7 days",
))
@friendly
def backfill(
    start: Annotated[
        date | None, typer.Option(parser=parse_day, metavar="YYYY-MM-DD", help="First drop day.")
    ] = None,
    end: Annotated[
        date | None, typer.Option(parser=parse_day, metavar="YYYY-MM-DD", help="Last drop day.")
    ] = None,
    verbose: Verbose = False,
) -> None:
    """Process every landed day not yet processed (or those between --start and --end), in order.

    Runs of JOURNEY_BACKFILL_DAYS_PER_RUN days (default 31), each published; after a failure, run it
    again and it resumes at the first unpublished day.
    """
    first, last = start, end
    if first and last and first > last:
        raise typer.BadParameter(f"--start {first} is after --end {last}.", param_hint="'--start' / '--end'")
    settings = _run_settings(verbose)
    started = time.perf_counter()
    from journey.ops.guard import run_lock

    with run_lock(settings, first, on_wait=_say_waiting):
        from journey.ops.backfill import backfill_segments
        from journey.ops.prefect_server import api_configured

        results: list[dict[str, object]] = []
        # Nothing pending and no Prefect server to tell: done, without importing Prefect.
        if api_configured() or backfill_segments(settings, first, last):
            from flows.nightly import backfill as backfill_flow
            from flows.runner import run_flow

            try:
                days = split_runs(pending_days(settings, start=first, end=last), settings.backfill_days_per_run)
                with _bar("starting the backfill", 100 * len(days), "%", verbose) as bar, follow_runs(bar, days):
                    results = run_flow(backfill_flow, start=first, end=last)
            except JourneyError:
                raise
            except Exception as error:
                raise _flow_failed(settings, error) from error
    for result in results:
        typer.echo(console.run_line(result))
    typer.echo(console.backfill_summary(results, time.perf_counter() - started, settings).render())
    if any(result["status"] == "degraded" for result in results):
        from journey.runs import DEGRADED_EXIT_CODE

        raise typer.Exit(DEGRADED_EXIT_CODE)


@app.command(epilog=_examples(
    "journey serve                      # with a temporary local Prefect API",
    "PREFECT_API_URL=http://127.0.0.1:4200/api journey serve",
    'JOURNEY_SCHEDULE_CRON="30 1 * * *" journey serve',
))
@friendly
def serve(verbose: Verbose = False) -> None:
    """Run the nightly flow on its schedule, as a Prefect deployment served by this process.

    Cron JOURNEY_SCHEDULE_CRON (default "0 2 * * *") in JOURNEY_TIMEZONE; one run at a time.
    Uses the Prefect server in PREFECT_API_URL, or starts a local one for as long as it serves
    (history kept in the data dir). Stop with Ctrl-C.
    """
    settings = _settings(verbose)
    settings.ensure_dirs()
    settings.pseudonym_key(create=False)
    from flows.deploy import FULL_NAME, serve_nightly, starts_local_server

    typer.echo(f"serving {FULL_NAME}: cron '{settings.schedule_cron}' ({settings.timezone}), one run at a time")
    if starts_local_server():
        typer.echo(f"PREFECT_API_URL is unset: starting a local Prefect server (history in {settings.prefect_home})")
    serve_nightly(settings)


@app.command(epilog=_examples(
    'journey sql "select count(*) from marts.fct_encounters"',
    'journey sql "select * from marts.metrics_kpi_status limit 20"',
    'journey sql "show all tables"',
))
@friendly
def sql(query: Annotated[str, typer.Argument(help="SQL to run read-only on the published warehouse.")]) -> None:
    """Run a read-only query against the published warehouse and print the result (first 50 rows)."""
    import duckdb

    from journey.warehouse.connection import connect_reader
    from journey.warehouse.publish import require_published_warehouse

    settings = _settings(need_data=True)
    conn = connect_reader(require_published_warehouse(settings))
    try:
        conn.sql(query).show(max_width=200, max_rows=50)
    except duckdb.Error as error:
        raise JourneyError(
            f"query failed: {type(error).__name__}: {error}",
            hint='`journey sql "show all tables"` lists the tables; the contract tables are in schema marts '
            "(docs/analysts.md, and the dbt docs overview). The warehouse is read-only here.",
        ) from None
    finally:
        conn.close()


@app.command(
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True, "help_option_names": []},
    epilog=_examples(
        "journey mf query --metrics nps --group-by metric_time__month,encounter__department",
        "journey mf list metrics",
        "journey mf --help                    # MetricFlow's own help",
    ),
)
@friendly
def mf(ctx: typer.Context) -> None:
    """MetricFlow (`mf`) on the published warehouse, read-only: the governed metrics (docs/analysts.md)."""
    from journey.transform.metricflow import run_mf

    settings = _settings(need_data=True)
    raise typer.Exit(run_mf(settings, ctx.args))


@app.command(epilog=_examples("journey info", "JOURNEY_DATA_DIR=/srv/journey journey info"))
@friendly
def info() -> None:
    """Where everything is, and an example query to start from. A file not built yet is named with the
    command that builds it, never as a path that does not exist."""
    from journey.report.docs_site import dbt_docs_page, quality_sites

    settings = _settings()
    site = settings.site_dir

    def where(path: Path | None, missing: str) -> str:
        return str(path) if path is not None and path.is_file() else f"not built yet ({missing})"

    typer.echo(f"warehouse:  {where(settings.warehouse_path, '`journey run` or `journey backfill` publishes it')}")
    typer.echo(f"dashboard:  {where(site / 'report' / 'index.html', '`journey report`')}")
    typer.echo(f"sites:      {where(site / 'index.html', '`journey docs`')}")
    typer.echo(f"dbt docs:   {where(dbt_docs_page(site), '`journey docs`')}")
    quality = quality_sites(settings)
    for stage, path in quality.items():
        typer.echo(f"{'quality:' if stage == next(iter(quality)) else '':<12}{path}")
    if not quality:
        typer.echo("quality:    not built yet (the nightly run writes the GX Data Docs)")
    typer.echo(f"landing:    {settings.landing_dir}")
    typer.echo(f"logs:       {settings.log_dir} (journey.log, runs.jsonl)")
    typer.echo("quarantine: table quarantine.rows (`journey quarantine list`)")
    typer.echo("example:    duckdb -readonly " + str(settings.warehouse_path))
    typer.echo(EXAMPLE_QUERY)


@app.command(epilog=_examples(
    'journey report && xdg-open "$JOURNEY_DATA_DIR/site/report/index.html"',
    "journey report --out /srv/www/journey.html",
))
@friendly
def report(
    out: Annotated[
        str | None, typer.Option("--out", metavar="PATH", help="Write here instead of site/report/index.html.")
    ] = None,
) -> None:
    """Build the static dashboard (one self-contained HTML file, opens offline) from the published warehouse.

    Charts: KPIs vs target, door-to-provider p50/p90 trends, ED hour × weekday heatmap, NPS and top-box,
    NPS by wait quartile, cohort retention, follow-up and complaint SLAs, campaign funnel and attribution.
    """
    from journey.report.build import build_report

    settings = _settings(need_data=True)
    started = time.perf_counter()
    result = build_report(settings, out=Path(out) if out else None)
    typer.echo(console.report_summary(result, time.perf_counter() - started).render())


@app.command(epilog=_examples(
    "journey worklist                     # yesterday (hospital local time)",
    "journey worklist --date 2026-03-02   # rows about 2026-03-01",
    "journey worklist --out /shared/service-recovery.csv",
))
@friendly
def worklist(
    date_: Annotated[
        date | None,
        typer.Option("--date", parser=parse_day, metavar="YYYY-MM-DD",
                     help="Worklist date; lists the day before. Default: today."),
    ] = None,
    out: Annotated[
        str | None, typer.Option("--out", metavar="PATH", help="CSV path (default: worklist/worklist-<date>.csv).")
    ] = None,
) -> None:
    """Write the service-recovery worklist: the previous day's detractors, bottom-box answers and complaints.

    One row per survey response (NPS 0-6, overall rating 0-6, or an item answered never/sometimes) or
    complaint, with department, waits, a scrubbed comment excerpt and the encounter id to look up in
    the EHR. No patient identity.
    """
    from zoneinfo import ZoneInfo

    from journey.report.worklist import write_worklist

    settings = _settings(need_data=True)
    started = time.perf_counter()
    run_date = date_ or datetime.now(ZoneInfo(settings.timezone)).date()
    path, frame = write_worklist(settings, run_date, Path(out) if out else None)
    counts = {str(key): int(value) for key, value in frame["source"].value_counts().items()} if len(frame) else {}
    about = (run_date - timedelta(days=1)).isoformat()
    typer.echo(console.worklist_summary(path, counts, about, time.perf_counter() - started).render())


@app.command(epilog=_examples(
    "journey docs                               # dbt docs, GX Data Docs, links",
    "journey docs --serve --port 8080           # open http://127.0.0.1:8080/",
    "journey docs --skip-dbt --serve --port 0   # serve as built, any free port",
))
@friendly
def docs(
    serve: Annotated[bool, typer.Option("--serve", help="Serve site/ on 127.0.0.1 until Ctrl-C.")] = False,
    port: Annotated[int, typer.Option(metavar="PORT", help="Port for --serve (0 = any free port).")] = 8080,
    skip_dbt: Annotated[bool, typer.Option("--skip-dbt", help="Do not regenerate the dbt docs.")] = False,
) -> None:
    """Build the dbt docs site (site/dbt/), link the GX Data Docs (site/quality/<stage>/) and the dashboard
    from site/index.html; with --serve, serve them on 127.0.0.1.
    """
    from journey.report.docs_site import build_docs, make_server

    settings = _settings(need_data=True)
    started = time.perf_counter()
    result = build_docs(settings, dbt=not skip_dbt)
    typer.echo(console.docs_summary(result, time.perf_counter() - started).render())
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


@quarantine_app.command("list", epilog=_examples(
    "journey quarantine list",
    "journey quarantine list --limit 200 | grep crm/",
    "journey quarantine list --run 20260302T020000-1a2b3c   # a failed run's refused rows",
))
@friendly
def quarantine_list(
    limit: Annotated[int, typer.Option(min=1, metavar="N", help="Rows to show.")] = 50,
    run_id: Annotated[
        str | None, typer.Option("--run", metavar="RUN_ID",
                                 help="The rows one run refused, published or not (its evidence in logs/runs/).")
    ] = None,
) -> None:
    """Show quarantined rows of the published warehouse: landed file, row number, the stage that refused
    it (load or staging), rule, detail (never the row's content). Then the landed files and folders
    the last published run did not load, each with its reason. When the last run failed (nothing
    of it is published, so neither are the rows it refused) or ended degraded, says so and why; `--run`
    with its id lists what it refused."""
    if run_id is not None:
        _quarantine_of_run(_settings(need_data=True), run_id, limit)
        return
    from journey.warehouse.connection import connect_reader
    from journey.warehouse.publish import require_published_warehouse

    settings = _settings(need_data=True)
    conn = connect_reader(require_published_warehouse(settings))
    try:
        conn.execute(
            """select _source_file as file, _row_number as row, rule, detail from quarantine.rows
               where replayed_at is null order by _source_file, _row_number limit ?""",
            [limit],
        )
        rows = conn.fetchall()
        total = conn.execute("select count(*) from quarantine.rows where replayed_at is null").fetchone()
        refused = _files_not_loaded(conn)
    finally:
        conn.close()
    from journey.ops.runlog import read_runs

    _echo_quarantined(rows, int(total[0]) if total else 0, "quarantine is empty")
    if refused:
        typer.echo(f"files not loaded by the last published run ({len(refused):,}):")
        for path, reason, detail in refused:
            typer.echo(f"  {path}  {reason}  {detail}")
    note = console.last_run_note(read_runs(settings))
    if note:
        typer.echo(note)


def _quarantine_of_run(settings: Settings, run_id: str, limit: int) -> None:
    """`quarantine list --run`: the rows one run refused, from its evidence (journey.ops.evidence)."""
    from journey.ops import evidence
    from journey.ops.runlog import read_runs

    try:
        found = evidence.has_evidence(settings, run_id)
    except ValueError as error:
        raise UsageError(f"--run {run_id!r}: {error}.") from None
    run = next((item for item in read_runs(settings) if item["run_id"] == run_id), None)
    if run is None and not found:
        raise MissingInput(f"No run {run_id} in {settings.log_dir / 'runs.jsonl'} or the run log.",
                           hint="`journey sql \"select run_id, status from ops.runs\"` lists the runs; "
                           "a failed run's id is in its error message and its alert.")
    if not found:
        typer.echo(f"run {run_id} ({run['status'] if run else '?'}) kept no evidence: it loaded nothing"
                   " (or ran before journey kept per-run evidence)")
        return
    rows, total = evidence.quarantined_rows(settings, run_id, limit)
    _echo_quarantined(rows, total, f"run {run_id} quarantined no rows")
    if run is not None:
        typer.echo(f"run {run_id} {run['status']}" + (f" at stage {run['stage']}" if run.get("stage") else "")
                   + f": {total:,} row(s) quarantined (evidence in {evidence.run_dir(settings, run_id)})")


def _echo_quarantined(rows: list[tuple[Any, ...]], total: int, empty: str) -> None:
    """One line per row (file:row, refusing stage, rule, detail), then how many more there are."""
    from journey.quality.health import refusing_stage

    for file, row, rule, detail in rows:
        typer.echo(f"{file}:{row}  {refusing_stage(str(rule))}  {rule}  {detail or ''}")
    if not rows:
        typer.echo(empty)
    elif total > len(rows):
        typer.echo(f"… {total - len(rows):,} more (--limit {total} shows all)")


def _files_not_loaded(conn: Any) -> list[tuple[str, str, str]]:
    """(path, reason, detail) of the entries the latest published run did not load (raw.files_not_loaded)."""
    import duckdb

    try:
        return [(str(path), str(reason), str(detail)) for path, reason, detail in conn.execute(
            """select path, reason, detail from raw.files_not_loaded
               where run_id = (select run_id from ops.runs where status in ('succeeded', 'degraded')
                               order by started_at desc limit 1)
               order by path"""
        ).fetchall()]
    except duckdb.CatalogException:  # published before the table existed
        return []


@quarantine_app.command("replay", epilog=_examples(
    "journey quarantine replay",
    "journey quarantine replay --rule review_not_in_future",
    "journey quarantine replay --file relations/2026-03-01/reviews.jsonl",
))
@friendly
def quarantine_replay(
    file: Annotated[
        str | None, typer.Option("--file", metavar="PATH", help="Only rows of this landed file (as listed).")
    ] = None,
    rule: Annotated[str | None, typer.Option("--rule", metavar="RULE", help="Only rows refused by this rule.")] = None,
    verbose: Verbose = False,
) -> None:
    """Re-validate quarantined rows after what refused them is fixed, and publish.

    Rows refused by a quality rule (unknown code, implausible value, future timestamp) go back into
    raw and through every check again: fixed ones load, the rest return to quarantine. Rows the
    loader refused (malformed line, missing required field) need the corrected file: land it at the
    same path and the next run replaces the earlier version.
    """
    _run_flow(None, verbose, replay=True, replay_file=file, replay_rule=rule)


@app.command("privacy-scan", epilog=_examples(
    "journey privacy-scan                       # the demo's planted identities",
    "journey privacy-scan --needles sample.csv  # columns kind,value",
    "journey privacy-scan --warehouse /backup/journey.duckdb",
))
@friendly
def privacy_scan(
    needles: Annotated[
        str | None,
        typer.Option(metavar="PATH", help="Needles file: CSV/JSONL/Parquet with columns kind,value, or the "
                     "generator's identities.parquet (default: $JOURNEY_DATA_DIR/generator/identities.parquet)."),
    ] = None,
    warehouse: Annotated[
        str | None, typer.Option(metavar="PATH", help="DuckDB file to scan (default: the published one).")
    ] = None,
    birth_dates_before: Annotated[
        date | None,
        typer.Option(parser=parse_day, metavar="YYYY-MM-DD",
                     help="Ignore birth dates on or after this day: they collide with ordinary event dates. "
                     "Default for the demo: two years before its first day."),
    ] = None,
) -> None:
    """Search the warehouse (every column of every table) and every log, dbt and site file for known
    identifiers; exit 1 naming table, column and a sample for each hit. The secret is always a needle.
    """
    import json

    from journey.privacy.scan import data_dir_folders, load_needles, scan, secret_needles

    settings = _settings(need_data=True)
    path = Path(needles) if needles else settings.generator_dir / "identities.parquet"
    if not path.is_file():
        raise MissingInput(f"No needles file at {path}.",
                           hint="Pass --needles with a CSV of columns kind,value (or run `journey generate`).")
    before = birth_dates_before
    generation = settings.generator_dir / "generation.json"
    if before is None and needles is None and generation.is_file():
        first = json.loads(generation.read_text(encoding="utf-8"))["parameters"]["start"]
        before = date.fromisoformat(first) - timedelta(days=730)
    try:
        found = load_needles(path, birth_dates_before=before)
    except ValueError as error:
        raise ConfigError(str(error), hint="A needles file has columns kind,value (see --help).") from None
    try:
        found += secret_needles(settings.pseudonym_key())
    except JourneyError:
        typer.secho("no secret configured: scanning for identities only", fg=typer.colors.YELLOW, err=True)
    target = Path(warehouse) if warehouse else settings.warehouse_path
    if not target.is_file():
        raise MissingInput(f"No warehouse at {target}.",
                           hint="Run `journey backfill` first, or pass --warehouse with a DuckDB file.")
    typer.echo(f"privacy scan: {len(found)} needles, reading {target} and the files under {settings.root} …", err=True)
    result = scan(found, warehouse=target, folders=data_dir_folders(settings))
    typer.echo(result.summary())
    typer.echo(f"  scanned: {target}, logs, dbt and site files under {settings.root}")
    if not result.clean:
        typer.secho(
            "  next:    remove each hit at its source (the table's model or the named file), rebuild "
            "(`journey run --rebuild`), and scan again",
            err=True,
        )
        raise typer.Exit(1)


@app.command(epilog=_examples(
    "journey retention --dry-run        # what would be deleted",
    "journey retention                  # delete files past the retention period",
    "journey retention --days 90 --dry-run",
))
@friendly
def retention(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="List what would be deleted; delete nothing.")] = False,
    days: Annotated[
        int | None,
        typer.Option(min=0, metavar="N", help="Override JOURNEY_LANDING_RETENTION_DAYS for this pass (0 = keep all)."),
    ] = None,
) -> None:
    """Delete landed files (they hold PII) once loaded into the published warehouse and older than
    the retention period (JOURNEY_LANDING_RETENTION_DAYS, default 30). One log record per file.
    """
    from journey.ops.lock import acquire_run_lock
    from journey.privacy.retention import apply_retention

    settings = _settings(need_data=True)
    started = time.perf_counter()
    if dry_run:
        result = apply_retention(settings, dry_run=True, retention_days=days)
    else:
        # Deleting landed files: not while a run is loading or publishing them (the run lock).
        lock = acquire_run_lock(settings, "retention")
        try:
            result = apply_retention(settings, retention_days=days)
        finally:
            lock.release()
    for item in result.deleted:
        typer.echo(f"{'would delete' if dry_run else 'deleted'} {item.relative_path} "
                   f"(drop {item.landing_date}, loaded {item.loaded_on})")
    typer.echo(console.retention_summary(result, time.perf_counter() - started, settings).render())


def main() -> None:  # pragma: no cover - console entry
    sys.exit(app())


if __name__ == "__main__":  # pragma: no cover
    main()
