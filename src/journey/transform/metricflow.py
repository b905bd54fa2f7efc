"""The governed metric layer: MetricFlow (`mf`) over a journey warehouse, read-only.

The semantic models and metrics live next to the marts (models/**/_semantic_models.yml,
_metrics.yml); every dbt run writes them to ``$JOURNEY_DATA_DIR/dbt/target/semantic_manifest.json``.
MetricFlow's CLI reads that file only from ``<dbt project>/target/`` and connects through a dbt
profile, so each query runs in a small per-data-dir workspace (``$JOURNEY_DATA_DIR/dbt/metricflow``):
a minimal dbt project, a profile that opens the warehouse **read-only** (the published one unless
told otherwise), and a copy of the semantic manifest. The nightly run never writes the published file
in place, so `mf` never locks it.

Network: the `mf` CLI asks PyPI for a newer version on every start (the update-checker package,
no opt-out setting); journey's entry point replaces that check with a no-op. dbt's anonymous usage
stats are off (``DBT_SEND_ANONYMOUS_USAGE_STATS``); MetricFlow's own telemetry only writes to the
Python log.

Privacy: `journey mf` refuses the ``*_unsuppressed`` metrics (the raw figures before the small-cell
rule) and every entity as a group-by, filter or order item (an entity — encounter, patient,
appointment … — is one row per visit or per patient), and anything reached through ``patient__``
(``check_mf_args``). Dimensions reached through an entity (``encounter__department``) stay open.
`journey mf list metrics` lists only the metrics it allows.

Output: a query with group-by items and no ``--order`` is ordered by them (``ordered_args``), and a
time column whose every value is at midnight (a day, week, month … grain) prints as ISO dates
(``2026-01-01``, not ``2026-01-01T00:00:00``), on the terminal and in ``--csv`` (``iso_dates``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import json
import os
import re
import shutil
import sys
from collections.abc import Callable, Collection, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from journey.config import Settings, telemetry_off_env
from journey.errors import JourneyError, UsageError
from journey.warehouse.publish import require_published_warehouse

if TYPE_CHECKING:
    from metricflow.data_table.mf_table import MetricFlowDataTable
    from metricflow.engine.metricflow_engine import MetricFlowEngine

MANIFEST = "semantic_manifest.json"
UNSUPPRESSED = "_unsuppressed"
# Always refused, whatever the manifest declares: one row per visit / per patient.
ROW_LEVEL_ENTITIES = frozenset({"encounter", "patient"})
# The mf options that name metrics, group-by items or filters (none has a short form).
_NAMING_OPTIONS = ("--metrics", "--group-by", "--order", "--where", "--dimension")


def workspace_dir(settings: Settings) -> Path:
    return settings.root / "dbt" / "metricflow"


def prepare_workspace(settings: Settings, database: Path | None = None) -> Path:
    """Write the mf workspace for ``database`` (default: the published warehouse); return its path."""
    database = require_published_warehouse(settings, database).resolve()
    manifest = settings.dbt_target_dir / MANIFEST
    if not manifest.is_file():
        raise JourneyError(
            f"No MetricFlow semantic manifest at {manifest}: it is written by every dbt run; "
            "run `journey run --rebuild` (or `journey docs`) to write it."
        )
    workspace = workspace_dir(settings)
    (workspace / "target").mkdir(parents=True, exist_ok=True)
    # JSON is YAML: the paths need no quoting rules of their own.
    project = {
        "name": "journey",
        "version": "0.1.0",
        "config-version": 2,
        "profile": "journey",
        "log-path": str(settings.dbt_log_dir),
        "flags": {"send_anonymous_usage_stats": False},
    }
    profile = {
        "journey": {
            "target": "metrics",
            "outputs": {
                "metrics": {
                    "type": "duckdb",
                    "path": str(database),
                    "threads": 1,
                    "config_options": {"access_mode": "READ_ONLY"},
                }
            },
        }
    }
    (workspace / "dbt_project.yml").write_text(json.dumps(project, indent=2) + "\n", encoding="utf-8")
    (workspace / "profiles.yml").write_text(json.dumps(profile, indent=2) + "\n", encoding="utf-8")
    shutil.copyfile(manifest, workspace / "target" / MANIFEST)
    return workspace


def manifest_entities(manifest: Path) -> frozenset[str]:
    """Every entity name the semantic models of ``manifest`` declare, with encounter and patient."""
    models = json.loads(manifest.read_text(encoding="utf-8")).get("semantic_models", [])
    return ROW_LEVEL_ENTITIES | {entity["name"].lower() for model in models for entity in model.get("entities", [])}


def _option_values(args: Sequence[str]) -> list[tuple[str, str]]:
    """(option, value) for each naming option in ``args``, in both the ``--opt v`` and ``--opt=v`` forms."""
    found: list[tuple[str, str]] = []
    for index, arg in enumerate(args):
        option, equals, value = arg.partition("=")
        if option not in _NAMING_OPTIONS:
            continue
        if equals:
            found.append((option, value))
        elif index + 1 < len(args):
            found.append((option, args[index + 1]))
    return found


def _names(option: str, value: str) -> list[str]:
    """The metric / group-by names one option value refers to (a filter: every identifier in it)."""
    if option == "--where":
        return re.findall(r"\w+", value)
    return [name.strip().lstrip("-") for name in value.split(",")]


def _refused(name: str, entities: Collection[str]) -> bool:
    parts = name.lower().split("__")
    return parts[-1].endswith(UNSUPPRESSED) or parts[-1] in entities or parts[0] == "patient"


def check_mf_args(args: Sequence[str], entities: Collection[str], min_cell_size: int) -> None:
    """UsageError when ``args`` ask mf for an unsuppressed metric or a row-level (entity) item."""
    refused = sorted({name for option, value in _option_values(args) for name in _names(option, value)
                      if _refused(name, entities)})
    if not refused:
        return
    raise UsageError(
        f"journey mf refuses {', '.join(refused)}: a *{UNSUPPRESSED} metric is the raw figure before the "
        f"small-cell rule (a rate or percentile over fewer than {min_cell_size} units — visits, responses, "
        "patients — is withheld), "
        f"and an entity ({', '.join(sorted(entities))}) or anything reached through patient__ as a group-by, "
        "filter or order item gives per-visit or per-patient rows.",
        hint="Ask for the published metric (e.g. door_to_provider_p90_min, not *_unsuppressed) by time and "
        "dimensions such as encounter__department (`journey mf list dimensions --metrics nps`). Analysts who "
        "need row-level data query marts.fct_* under the hospital's access rules.",
    )


def mf_env(settings: Settings, workspace: Path) -> dict[str, str]:
    """Environment for MetricFlow: the workspace as dbt project and profiles dir, telemetry off."""
    return {
        **telemetry_off_env(),
        "DBT_PROJECT_DIR": str(workspace),
        "DBT_PROFILES_DIR": str(workspace),
        "DBT_LOG_PATH": str(settings.dbt_log_dir),
    }


class _NoUpdateCheck:
    """Stands in for update_checker.UpdateChecker: never asks PyPI, never finds an update."""

    def check(self, package_name: str, package_version: str) -> None:
        return None


def ordered_args(args: Sequence[str]) -> list[str]:
    """``args`` with ``--order <the group-by items>`` added to a query that groups and sets no order."""
    args = list(args)
    if not args or args[0] != "query" or any(option == "--order" for option, _ in _option_values(args)):
        return args
    group_by = [value for option, value in _option_values(args) if option == "--group-by"]
    return [*args, "--order", ",".join(group_by)] if group_by else args


def iso_dates(table: MetricFlowDataTable) -> MetricFlowDataTable:
    """``table`` with each time column whose values are all at midnight as ISO date strings."""
    from metricflow.data_table.mf_column import ColumnDescription

    columns = list(table.column_descriptions)
    rows = [list(row) for row in table.rows]
    for index, column in enumerate(columns):
        values = [row[index] for row in rows if row[index] is not None]
        if not values or not all(isinstance(value, dt.datetime) and value.time() == dt.time() for value in values):
            continue
        columns[index] = ColumnDescription(column_name=column.column_name, column_type=str)
        for row in rows:
            value = row[index]
            row[index] = value.date().isoformat() if isinstance(value, dt.datetime) else None
    return dataclasses.replace(table, column_descriptions=tuple(columns), rows=tuple(tuple(row) for row in rows))


def allowed_metrics(metrics: list[Any]) -> list[Any]:
    """The metrics `journey mf` lets through (no ``*_unsuppressed``), for `mf list metrics`."""
    return [metric for metric in metrics if not metric.name.lower().endswith(UNSUPPRESSED)]


def _patch_engine() -> None:
    """MetricFlow's engine as `journey mf` uses it: query results with ISO dates, allowed metrics only."""
    from metricflow.engine.metricflow_engine import MetricFlowEngine

    if getattr(MetricFlowEngine, "_journey_patched", False):
        return
    query: Callable[..., Any] = MetricFlowEngine.query
    list_metrics: Callable[..., list[Any]] = MetricFlowEngine.list_metrics

    def iso_query(self: MetricFlowEngine, *args: Any, **kwargs: Any) -> Any:
        result = query(self, *args, **kwargs)
        if result.result_df is None:
            return result
        return dataclasses.replace(result, result_df=iso_dates(result.result_df))

    def listed(self: MetricFlowEngine, *args: Any, **kwargs: Any) -> list[Any]:
        return allowed_metrics(list_metrics(self, *args, **kwargs))

    MetricFlowEngine.query = iso_query  # type: ignore[method-assign]
    MetricFlowEngine.list_metrics = listed  # type: ignore[method-assign]
    MetricFlowEngine._journey_patched = True  # type: ignore[attr-defined]


def run_mf(settings: Settings, args: Sequence[str], database: Path | None = None) -> int:
    """Run the `mf` CLI (``mf query …``, ``mf list metrics`` …) on the warehouse; return its exit code.
    Unsuppressed metrics and row-level (entity) items are refused first (``check_mf_args``); a grouped
    query is ordered by its groups, dates print as ISO dates, and only allowed metrics are listed."""
    workspace = prepare_workspace(settings, database)
    check_mf_args(args, manifest_entities(workspace / "target" / MANIFEST), settings.min_cell_size)
    args = ordered_args(args)
    os.environ.update(mf_env(settings, workspace))
    from dbt_metricflow.cli import main as mf_main
    from halo import Halo

    _patch_engine()

    mf_main.UpdateChecker = _NoUpdateCheck
    if not sys.stdout.isatty():
        # mf's progress spinner writes carriage returns and terminal escapes: not into a pipe or a log
        mf_main.Halo = functools.partial(Halo, enabled=False)
    try:
        mf_main.cli.main(args=list(args), prog_name="journey mf", standalone_mode=False)
    except SystemExit as exit_:  # mf's commands exit on their own errors, after printing them
        return exit_.code if isinstance(exit_.code, int) else 1
    except click.ClickException as error:  # usage errors: a message, not a traceback
        raise JourneyError(f"mf {' '.join(args)}: {error.format_message()}") from None
    return 0


def metricflow_engine(settings: Settings, database: Path | None = None) -> MetricFlowEngine:
    """A MetricFlow engine on the warehouse, for Python use (the same workspace as `journey mf`)."""
    workspace = prepare_workspace(settings, database)
    os.environ.update(mf_env(settings, workspace))
    from dbt_metricflow.cli.cli_configuration import CLIConfiguration

    config = CLIConfiguration()
    config.setup(dbt_profiles_path=workspace, dbt_project_path=workspace, configure_file_logging=False)
    return config.mf
