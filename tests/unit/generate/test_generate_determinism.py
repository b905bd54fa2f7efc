"""Same seed and parameters → the same bytes; another seed → other data; days are append-only."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from journey_demo import generate

PARAMS = {"start": date(2024, 5, 6), "days": 6, "scale": 0.03, "defect_rate": 0.05}


def _tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _outputs(root: Path) -> dict[str, bytes]:
    files = _tree(root)
    generation = json.loads(files.pop("record/generation.json"))
    files["record/generation.json:parameters"] = json.dumps(generation["parameters"]).encode()
    return files


def test_same_seed_gives_identical_bytes(tmp_path: Path) -> None:
    generate(tmp_path / "a" / "landing", tmp_path / "a" / "record", seed=5, **PARAMS)  # type: ignore[arg-type]
    generate(tmp_path / "b" / "landing", tmp_path / "b" / "record", seed=5, **PARAMS)  # type: ignore[arg-type]
    a, b = _outputs(tmp_path / "a"), _outputs(tmp_path / "b")
    assert len(a) > 40  # 6 days x 3 sources of drops, plus the record
    assert "record/defects.jsonl" in a and len(a["record/defects.jsonl"]) > 0
    assert a.keys() == b.keys()
    assert [name for name in a if a[name] != b[name]] == []


def test_another_seed_gives_other_data(tmp_path: Path) -> None:
    generate(tmp_path / "a" / "landing", tmp_path / "a" / "record", seed=5, **PARAMS)  # type: ignore[arg-type]
    generate(tmp_path / "b" / "landing", tmp_path / "b" / "record", seed=6, **PARAMS)  # type: ignore[arg-type]
    a, b = _tree(tmp_path / "a" / "landing"), _tree(tmp_path / "b" / "landing")
    with_data = sorted(n for n in a.keys() & b.keys() if a[n].count(b"\n") > 2 and "Location" not in n)
    assert len(with_data) > 30
    assert [name for name in with_data if a[name] == b[name]] == []


def test_more_days_only_append_drops(tmp_path: Path) -> None:
    """Without defects, generating 6 days reproduces the 4-day run's drops byte for byte."""
    clean = {**PARAMS, "defect_rate": 0.0}
    generate(tmp_path / "short", tmp_path / "r1", seed=3, **{**clean, "days": 4})  # type: ignore[arg-type]
    generate(tmp_path / "long", tmp_path / "r2", seed=3, **{**clean, "days": 6})  # type: ignore[arg-type]
    short, long = _tree(tmp_path / "short"), _tree(tmp_path / "long")
    assert short and all(long[name] == data for name, data in short.items())
    assert len(long) > len(short)
