"""The demo hospital generator is its own package: it imports nothing from journey, and the product
reaches it only from the CLI (`journey generate`) and the console that prints its report."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[3] / "src"


def _imported(path: Path) -> set[str]:
    modules: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules.add(node.module)
    return modules


def _top(module: str) -> str:
    return module.split(".")[0]


def test_the_generator_imports_nothing_from_journey() -> None:
    files = sorted((SRC / "journey_demo").rglob("*.py"))
    assert len(files) > 5
    offending = {str(path.relative_to(SRC)): sorted(m for m in _imported(path) if _top(m) == "journey")
                 for path in files}
    assert not {name: mods for name, mods in offending.items() if mods}


def test_the_product_reaches_the_generator_only_from_the_cli_and_console() -> None:
    users = sorted(str(path.relative_to(SRC)) for path in (SRC / "journey").rglob("*.py")
                   if any(_top(m) == "journey_demo" for m in _imported(path)))
    assert users == ["journey/cli.py", "journey/console.py"]
