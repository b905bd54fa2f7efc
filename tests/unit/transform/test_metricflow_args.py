"""`journey mf` refuses unsuppressed metrics and row-level (entity) items before MetricFlow runs."""

from __future__ import annotations

import json

import duckdb
import pytest
from typer.testing import CliRunner

from journey.cli import app
from journey.config import Settings
from journey.errors import UsageError
from journey.transform.metricflow import MANIFEST, check_mf_args, manifest_entities

ENTITIES = frozenset({"encounter", "patient", "appointment", "survey_response"})


@pytest.mark.parametrize(
    "args",
    [
        ["query", "--metrics", "nps", "--group-by", "metric_time__month,encounter__department"],
        ["query", "--metrics=lwbs_rate,door_to_provider_p90_min",
         "--group-by=metric_time__week,encounter__encounter_class"],
        ["query", "--metrics", "no_show_rate", "--group-by", "appointment__department", "--order", "-metric_time__day",
         "--where", "{{ Dimension('encounter__department') }} = 'ED'", "--csv", "out.csv"],
        ["query", "--metrics", "nps", "--where", "{{ TimeDimension('metric_time', 'day') }} >= '2026-01-01'"],
        ["list", "dimension-values", "--metrics", "nps", "--dimension", "encounter__department"],
        ["list", "metrics"],
    ],
)
def test_published_metrics_by_their_dimensions_pass(args: list[str]) -> None:
    check_mf_args(args, ENTITIES, 11)


@pytest.mark.parametrize(
    ("args", "refused"),
    [
        (["query", "--metrics", "visits,door_to_provider_p90_min_unsuppressed", "--group-by", "metric_time__day"],
         "door_to_provider_p90_min_unsuppressed"),
        (["query", "--metrics=door_to_provider_p50_min_unsuppressed"], "door_to_provider_p50_min_unsuppressed"),
        (["query", "--metrics", "visits", "--group-by", "metric_time__day,encounter"], "encounter"),
        (["query", "--metrics", "visits", "--group-by=patient"], "patient"),
        (["query", "--metrics", "visits", "--group-by", "encounter__patient"], "encounter__patient"),
        (["query", "--metrics", "nps", "--group-by", "survey_response"], "survey_response"),
        (["query", "--metrics", "visits", "--group-by", "patient__age_band"], "patient__age_band"),
        (["query", "--metrics", "visits", "--order", "-encounter"], "encounter"),
        (["query", "--metrics", "visits", "--where", "{{ Entity('patient') }} = 'a1b2'"], "patient"),
        (["query", "--metrics", "visits", "--where={{ Dimension('patient__sex') }} = 'F'"], "patient__sex"),
        (["list", "dimension-values", "--metrics", "visits", "--dimension", "ENCOUNTER"], "ENCOUNTER"),
    ],
)
def test_unsuppressed_metrics_and_row_level_items_are_refused(args: list[str], refused: str) -> None:
    with pytest.raises(UsageError, match="journey mf refuses") as error:
        check_mf_args(args, ENTITIES, 11)
    message = str(error.value)
    assert f"refuses {refused}:" in message
    assert "small-cell rule" in message and "fewer than 11 units" in message and "per-patient" in message
    assert "marts.fct_*" in error.value.hint and "access rules" in error.value.hint
    assert error.value.exit_code == 2


def test_the_entities_come_from_the_manifest_and_encounter_and_patient_always(settings: Settings) -> None:
    manifest = settings.dbt_target_dir / MANIFEST
    manifest.parent.mkdir(parents=True, exist_ok=True)
    manifest.write_text(json.dumps({"semantic_models": [
        {"name": "complaints", "entities": [{"name": "complaint", "type": "primary"}]},
    ]}), encoding="utf-8")
    assert manifest_entities(manifest) == {"complaint", "encounter", "patient"}


def test_the_command_refuses_with_a_usage_error_before_metricflow_runs(settings: Settings) -> None:
    duckdb.connect(str(settings.warehouse_path)).close()  # an (empty) published warehouse
    manifest = settings.dbt_target_dir / MANIFEST
    manifest.parent.mkdir(parents=True, exist_ok=True)
    manifest.write_text(json.dumps({"semantic_models": []}), encoding="utf-8")
    result = CliRunner().invoke(app, ["mf", "query", "--metrics=door_to_provider_p90_min_unsuppressed",
                                      "--group-by", "metric_time__day"])
    assert result.exit_code == 2, result.output
    assert result.output.startswith("error: journey mf refuses door_to_provider_p90_min_unsuppressed:")
    assert "marts.fct_*" in result.output
