"""site/index.html and `journey info` name only files that exist: every link of the landing page
resolves to a file from disk (file://, no server), dbt docs by the static page that opens offline."""

from __future__ import annotations

import re
from pathlib import Path

from typer.testing import CliRunner

from journey.cli import app
from journey.config import Settings
from journey.report.docs_site import write_site_index


def _touch(settings: Settings, *relatives: str) -> None:
    for relative in relatives:
        path = settings.site_dir / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("<html>ok</html>", encoding="utf-8")


def _links(index: Path) -> list[str]:
    return re.findall(r"href='([^']+)'", index.read_text(encoding="utf-8"))


def test_every_landing_link_resolves_to_an_existing_file(settings: Settings) -> None:
    _touch(settings, "report/index.html", "dbt/index.html", "dbt/static_index.html", "quality/landing/index.html",
           "quality/marts/index.html")
    result = write_site_index(settings)
    assert result.index == settings.site_dir / "index.html"
    links = _links(result.index)
    assert links == ["report/index.html", "dbt/static_index.html", "quality/landing/index.html",
                     "quality/marts/index.html"]
    assert all((settings.site_dir / link).is_file() for link in links)
    assert all(not link.startswith(("/", "http")) for link in links), "relative: opens from disk"
    html = result.index.read_text(encoding="utf-8")
    assert "Data quality (staging)" in html and "written by the next nightly run" in html


def test_landing_page_before_anything_is_built_links_nothing(settings: Settings) -> None:
    result = write_site_index(settings)
    assert _links(result.index) == []
    html = result.index.read_text(encoding="utf-8")
    assert "run `journey report`" in html and "run `journey docs`" in html


def test_dbt_docs_fall_back_to_the_served_page_when_no_static_one(settings: Settings) -> None:
    _touch(settings, "dbt/index.html")
    assert _links(write_site_index(settings).index) == ["dbt/index.html"]


def test_info_names_existing_files_and_says_what_is_not_built(settings: Settings) -> None:
    before = CliRunner().invoke(app, ["info"])
    assert before.exit_code == 0, before.output
    lines = {line.split(":", 1)[0]: line.split(":", 1)[1].strip() for line in before.output.splitlines()[:6]}
    assert lines["dashboard"] == "not built yet (`journey report`)"
    assert lines["sites"] == "not built yet (`journey docs`)"
    assert lines["dbt docs"] == "not built yet (`journey docs`)"
    assert lines["quality"].startswith("not built yet")
    _touch(settings, "report/index.html", "dbt/static_index.html", "quality/staging/index.html")
    write_site_index(settings)
    after = CliRunner().invoke(app, ["info"]).output
    for relative in ("report/index.html", "index.html", "dbt/static_index.html", "quality/staging/index.html"):
        assert str(settings.site_dir / relative) in after
    named = re.findall(r"(/\S+\.html)", after)
    assert named and all(Path(path).is_file() for path in named), named
