"""The docs site is rebuilt only when a file that shapes it changes."""

from __future__ import annotations

from pathlib import Path

from journey.transform.dbt import project_fingerprint


def _project(root: Path) -> Path:
    (root / "models" / "staging").mkdir(parents=True)
    (root / "dbt_project.yml").write_text("name: x\n")
    (root / "models" / "staging" / "stg_a.sql").write_text("select 1\n")
    (root / "models" / "staging" / "_models.yml").write_text("models: []\n")
    return root


def test_fingerprint_follows_model_files_only(tmp_path: Path) -> None:
    root = _project(tmp_path)
    before = project_fingerprint(root)
    assert project_fingerprint(root) == before, "same files, same fingerprint"
    (root / "notes.txt").write_text("not part of the dbt project")
    assert project_fingerprint(root) == before
    (root / "models" / "staging" / "_models.yml").write_text("models: [{name: stg_a, description: A}]\n")
    changed = project_fingerprint(root)
    assert changed != before, "a description change rebuilds the docs"
    (root / "models" / "staging" / "stg_a.sql").rename(root / "models" / "staging" / "stg_b.sql")
    assert project_fingerprint(root) != changed, "a renamed model rebuilds the docs"
