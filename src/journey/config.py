"""The one settings object. Built at the edge (CLI, flow, test) and passed in; never read at import time.

Every path derives from ``data_dir`` (``JOURNEY_DATA_DIR``, default ``data/``), so two data dirs never
interfere: landing, the published warehouse, the working copy, sites, logs, the Prefect home and the
pseudonymisation secret all live below it.
"""

from __future__ import annotations

import codecs
import os
import secrets
from datetime import date
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from journey.errors import ConfigError

SOURCES: tuple[str, ...] = ("ehr", "crm", "relations")


def _project_dir() -> Path:
    """The dbt project root (where dbt_project.yml lives): the checkout this package runs from."""
    here = Path(__file__).resolve()
    for parent in here.parents:
        if (parent / "dbt_project.yml").is_file():
            return parent
    return Path.cwd()


class Thresholds(BaseModel):
    """Plausibility limits used by the quality gates (hospitals differ: override per site)."""

    max_wait_hours: float = Field(default=48.0, description="Waits and ED stays above this are implausible.")
    future_tolerance_minutes: int = Field(
        default=60, description="Timestamps later than now + this (clock skew allowance) are rejected."
    )
    date_shift_days: int = Field(
        default=0, ge=0,
        description="De-identified exports shift dates this many days into the future: the not-in-future "
        "rules compare against now + this shift + future_tolerance_minutes (0 for a live hospital feed).",
    )
    earliest_plausible_date: date = Field(
        default=date(2000, 1, 1),
        description="Timestamps and dates before this day (UTC) are implausible: staging refuses the row "
        "(implausible_time:<field>), so a year-0001 value never reaches a mart.",
    )
    latest_plausible_date: date = Field(
        default=date(2200, 1, 1),
        description="Timestamps and dates after this day (UTC) are implausible, scheduled times included "
        "(an appointment in 9999); event times are also held to now + date_shift_days + future_tolerance_minutes.",
    )
    volume_band_days: int = Field(default=28, description="Trailing days the volume band is learned from.")
    volume_band_factor: float = Field(
        default=3.0,
        description="A day's rows outside [median / factor, median x factor] of the same weekday in the trailing "
        "window warn.",
    )
    volume_band_min_days: int = Field(
        default=7, description="Earlier days needed before the volume band is checked (new sites stay quiet)."
    )
    volume_band_min_weeks: int = Field(
        default=3, ge=1, description="Earlier drops on the same weekday needed before a day's volume band is checked."
    )
    volume_band_min_rows: int = Field(
        default=20, description="Entities with a smaller median rows per day are too sparse for a volume band."
    )
    max_quarantine_share: float = Field(
        default=0.2, description="A file with a larger share of rows quarantined stops the run."
    )
    min_rows_for_share: int = Field(
        default=20,
        description="The quarantine-share rules (per file, per entity) apply only from this many rows.",
    )
    # -- run health (journey.quality.health) ----------------------------------------------------
    max_entity_loss_share: float = Field(
        default=0.2, ge=0, le=1,
        description="An entity losing a larger share of tonight's rows to any stage's rules fails the run.",
    )
    degraded_entity_loss_share: float = Field(
        default=0.1, ge=0, le=1,
        description="An entity losing a larger share (up to max_entity_loss_share) ends the run degraded.",
    )
    max_unmapped_code_share: float = Field(
        default=0.1, ge=0, le=1,
        description="A larger share of tonight's encounters with a class code neither v3 nor in the code map "
                    "ends the run degraded (codes_unmapped).",
    )
    coverage_window_days: int = Field(
        default=7, ge=1, description="Latest metric dates a night's coverage of a core metric is measured over."
    )
    coverage_trailing_runs: int = Field(
        default=7, ge=1, description="Earlier published nights whose median coverage is the baseline."
    )
    coverage_min_history: int = Field(
        default=3, ge=1, description="Earlier nights needed before a coverage drop is judged."
    )
    coverage_max_drop: float = Field(
        default=0.25, ge=0, le=1,
        description="Coverage below the baseline by more than this (a share, 0.25 = 25 points) ends the run degraded.",
    )


    @model_validator(mode="after")
    def _plausible_window(self) -> Thresholds:
        # pandas (the GX gate's frames) holds nanosecond timestamps of 1677-09-22 .. 2262-04-11 only
        if not date(1678, 1, 1) <= self.earliest_plausible_date < self.latest_plausible_date <= date(2262, 1, 1):
            raise ValueError(
                "thresholds: need 1678-01-01 <= earliest_plausible_date < latest_plausible_date <= 2262-01-01"
            )
        return self


class Timeouts(BaseModel):
    """Per-stage time limits of the nightly run, in seconds (a stage over its limit fails the run)."""

    discover: float = Field(default=600, gt=0, description="Find and fingerprint landed files.")
    load: float = Field(default=3600, gt=0, description="Load one drop day into raw.")
    stage: float = Field(default=1800, gt=0, description="dbt run of the staging models.")
    validate_: float = Field(
        default=1800, gt=0, alias="validate", description="One Great Expectations gate (staging or marts)."
    )
    dbt: float = Field(default=7200, gt=0, description="dbt build (models, seeds, data tests).")
    docs: float = Field(default=1800, gt=0, description="dbt docs generate.")
    publish: float = Field(default=600, gt=0, description="Record the run and swap the working copy in.")


class Settings(BaseSettings):
    """journey's configuration. Environment variables use the prefix ``JOURNEY_``."""

    model_config = SettingsConfigDict(
        env_prefix="JOURNEY_", env_nested_delimiter="__", extra="ignore"
    )

    data_dir: Path = Field(default=Path("data"), description="Root of every generated path.")
    project_dir: Path = Field(default_factory=_project_dir, description="dbt project root.")
    timezone: str = Field(default="Asia/Shanghai", description="Hospital local time zone.")
    secret: SecretStr | None = Field(
        default=None, description="HMAC key for patient pseudonymisation (else read from secret_file)."
    )
    secret_file: Path | None = Field(default=None, description="File holding the HMAC key.")
    min_cell_size: int = Field(default=11, ge=1, description="Smallest published cell.")
    report_language: Literal["zh-CN", "en"] | None = Field(
        default=None,
        description="Language of the dashboard (`journey report`); unset: zh-CN when `timezone` is a mainland-China "
        "zone (Asia/Shanghai, Asia/Chongqing, Asia/Harbin, Asia/Urumqi), else en.",
    )
    late_lookback_days: int = Field(default=14, ge=0, description="Incremental lookback for late data.")
    landing_retention_days: int | None = Field(
        default=30, ge=0,
        description="Delete a landed file (it holds PII) once loaded and this many days old; 0 or unset = keep.",
    )
    landing_settle_seconds: float = Field(
        default=2.0, ge=0,
        description="A landed file modified less than this many seconds before discovery is still being "
        "written: not loaded that run (named, retried next run).",
    )
    duckdb_threads: int = Field(default=2, ge=1)
    duckdb_memory_limit: str = Field(
        default="3GB",
        description="DuckDB memory per process (the flow, each dbt run); Python and the gates take ~0.5-1 GB more.",
    )
    validate_chunk_rows: int = Field(
        default=1_000_000, ge=1,
        description="Rows of an increment handed to Great Expectations at once (row-level suites; bounds memory).",
    )
    load_workers: int = Field(
        default=2, ge=1, description="Landed files loaded at once, each on its own connection to the working copy."
    )
    max_line_bytes: int = Field(
        default=16 << 20, ge=1024,
        description="An NDJSON/JSONL line longer than this (bytes) is quarantined (line_too_long) before any "
                    "JSON parser sees it; it is never held whole in memory either.",
    )
    max_json_depth: int = Field(
        default=64, ge=16,
        description="An NDJSON/JSONL line nested deeper than this (objects and arrays) is quarantined "
                    "(too_deeply_nested) before any JSON parser sees it (FHIR resources are under 15 deep).",
    )
    source_encodings: dict[str, str] = Field(
        default_factory=dict,
        description='Encoding a source exports in, when it is not UTF-8 and deliberate, as JSON: '
                    '\'{"relations": "gbk"}\'. Its files must decode strictly in it (a byte-order mark still '
                    "wins); without it only UTF-8, UTF-16 with a BOM and plausible GB18030 are read.",
    )
    log_format: Literal["json", "text"] = "text"
    thresholds: Thresholds = Field(default_factory=Thresholds)
    # -- operations (journey serve, alerts, retries, backfill) -------------------------------------
    schedule_cron: str = Field(
        default="0 2 * * *", description="Cron of the nightly deployment, in `timezone` (default 02:00 daily)."
    )
    alert_urls: str | None = Field(
        default=None,
        description="Where a failed, interrupted or degraded run is announced: apprise URLs, whitespace or comma "
        "separated (wecombot://KEY, dingtalk://TOKEN, slack://…, msteams://…, mailto://…, json://host/path); "
        "unset (and no webhook_url): no alert, log only.",
    )
    webhook_url: str | None = Field(
        default=None,
        description="A plain http(s) endpoint that gets each alert as JSON (as if json:// were in alert_urls).",
    )
    webhook_timeout_seconds: float = Field(
        default=5.0, gt=0, description="Give up delivering an alert to one destination after this."
    )
    extract_retries: int = Field(default=2, ge=0, description="Retries of discover/load on I/O errors.")
    extract_retry_delay_seconds: float = Field(
        default=10.0, ge=0, description="First retry delay; doubles on each further retry (exponential backoff)."
    )
    timeouts: Timeouts = Field(default_factory=Timeouts, description="Per-stage time limits (seconds).")
    run_lock_wait_seconds: float = Field(
        default=600.0, ge=0, description="How long a run waits for another run to release the warehouse lock."
    )
    backfill_days_per_run: int = Field(
        default=31, ge=1, description="Drop days per run in a backfill; each run publishes, so a rerun resumes."
    )
    department_sources: str = Field(
        default="serviceType,type,serviceProvider,location",
        pattern=r"^(serviceType|type|serviceProvider|location)(,(serviceType|type|serviceProvider|location))*$",
        description="Encounter elements the department is taken from, in order (the first mapped or known code).",
    )

    @field_validator("source_encodings")
    @classmethod
    def _known_encodings(cls, value: dict[str, str]) -> dict[str, str]:
        for source, encoding in value.items():
            if source not in SOURCES:
                raise ValueError(f"unknown source {source!r} (one of {', '.join(SOURCES)})")
            try:
                codecs.lookup(encoding)
            except LookupError as error:
                raise ValueError(f"unknown encoding {encoding!r} for {source}") from error
        return {source: codecs.lookup(encoding).name for source, encoding in value.items()}

    # -- derived paths -------------------------------------------------------------------------
    @property
    def root(self) -> Path:
        return self.data_dir.resolve()

    @property
    def landing_dir(self) -> Path:
        return self.root / "landing"

    @property
    def warehouse_dir(self) -> Path:
        return self.root / "warehouse"

    @property
    def warehouse_path(self) -> Path:
        """The published warehouse analysts open read-only."""
        return self.warehouse_dir / "journey.duckdb"

    @property
    def work_path(self) -> Path:
        """The working copy the nightly run builds before it is swapped in."""
        return self.warehouse_dir / "journey.work.duckdb"

    @property
    def site_dir(self) -> Path:
        return self.root / "site"

    @property
    def log_dir(self) -> Path:
        return self.root / "logs"

    @property
    def generator_dir(self) -> Path:
        """What `journey generate` records about the demo (planted identities, injected defects)."""
        return self.root / "generator"

    @property
    def dbt_target_dir(self) -> Path:
        return self.root / "dbt" / "target"

    @property
    def dbt_log_dir(self) -> Path:
        return self.root / "dbt" / "logs"

    @property
    def prefect_home(self) -> Path:
        return self.root / ".prefect"

    @property
    def default_secret_file(self) -> Path:
        return self.secret_file.resolve() if self.secret_file else self.root / ".secret"

    # -- secret --------------------------------------------------------------------------------
    def pseudonym_key(self, *, create: bool = False) -> bytes:
        """The HMAC key. From ``JOURNEY_SECRET``, else the secret file; ``create`` writes a new one.

        The key never leaves this process: it is not logged and not stored in the warehouse.
        """
        if self.secret is not None and self.secret.get_secret_value():
            return self.secret.get_secret_value().encode()
        path = self.default_secret_file
        if path.is_file():
            value = path.read_text(encoding="utf-8").strip()
            if value:
                return value.encode()
        if not create:
            raise ConfigError(
                f"No pseudonymisation secret: set JOURNEY_SECRET or create {path} "
                "(`journey init` creates one)."
            )
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(secrets.token_hex(32) + "\n")
        return path.read_text(encoding="utf-8").strip().encode()

    def ensure_dirs(self) -> None:
        for path in (self.landing_dir, self.warehouse_dir, self.site_dir, self.log_dir):
            path.mkdir(parents=True, exist_ok=True)


def telemetry_off_env() -> dict[str, str]:
    """Environment that switches off every tool's telemetry (dbt, GX, Prefect)."""
    return {
        "DO_NOT_TRACK": "1",
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "GX_ANALYTICS_ENABLED": "false",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    }


def apply_runtime_env(settings: Settings) -> None:
    """Set process environment for the tools journey drives. Called once at each entry point."""
    for key, value in telemetry_off_env().items():
        os.environ.setdefault(key, value)
    os.environ["JOURNEY_DATA_DIR"] = str(settings.root)
    os.environ.setdefault("PREFECT_HOME", str(settings.prefect_home))
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    # The temporary local API needs longer than Prefect's 20 s default on a busy 2-core machine.
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")
