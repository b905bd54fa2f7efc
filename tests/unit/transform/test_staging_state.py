"""The stage step rebuilds the incremental staging tables in full exactly when their definition
changed since they were built (models/staging, macros, seeds, dbt_project.yml, journey's dbt vars)."""

from __future__ import annotations

from pathlib import Path

import duckdb

from journey.config import Settings
from journey.transform.dbt import staging_fingerprint, staging_is_current


def _record(database: Path, fingerprint: str) -> None:
    with duckdb.connect(str(database)) as conn:
        conn.execute("delete from ops.staging_state")
        conn.execute("insert into ops.staging_state values (?, now()::timestamp)", [fingerprint])


def test_a_warehouse_without_a_record_is_rebuilt(settings: Settings) -> None:
    assert not staging_is_current(settings, settings.work_path)


def test_the_recorded_definition_is_current_until_a_var_or_file_changes(settings: Settings, tmp_path: Path) -> None:
    staging_is_current(settings, settings.work_path)  # creates ops.staging_state
    _record(settings.work_path, staging_fingerprint(settings))
    assert staging_is_current(settings, settings.work_path)
    # another hospital time zone changes every staged timestamp: rebuild
    assert not staging_is_current(settings.model_copy(update={"timezone": "Europe/Paris"}), settings.work_path)
    # a staging model edited (here: a copy of the project with one more line in a model)
    project = tmp_path / "project"
    for name in ("dbt_project.yml",):
        (project / name).parent.mkdir(parents=True, exist_ok=True)
        (project / name).write_bytes((settings.project_dir / name).read_bytes())
    for folder in ("models/staging", "macros", "seeds"):
        for path in (settings.project_dir / folder).rglob("*"):
            if path.is_file():
                target = project / path.relative_to(settings.project_dir)
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(path.read_bytes())
    copied = settings.model_copy(update={"project_dir": project})
    assert staging_is_current(copied, settings.work_path), "same files, same definition"
    model = project / "models" / "staging" / "ehr" / "stg_ehr__slots.sql"
    model.write_text(model.read_text() + "\n-- edited\n")
    assert not staging_is_current(copied, settings.work_path)
