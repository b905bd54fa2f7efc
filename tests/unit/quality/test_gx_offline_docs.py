"""GX Data Docs open offline: no asset from the internet, the journey run id as run name, and an
index of plain links that resolve (real Great Expectations, real files)."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from journey.quality.gx_session import GxSession

NOT_NULL = [{"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "a"}}]
# an asset the browser fetches: a stylesheet, script or image source, a CSS url()
ASSET_URL = re.compile(r"""(?:\bsrc=|<link\b[^>]*\bhref=)["']?(https?:)?//|url\(\s*["']?(?:https?:)?//""", re.I)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    docs = tmp_path_factory.mktemp("gx") / "quality" / "staging"
    session = GxSession(docs, run_name="20260302T020000-1a2b3c")
    session.validate("staging.complaints", pd.DataFrame({"a": [1, None, 3]}), NOT_NULL)
    session.validate("staging.reviews", pd.DataFrame({"a": [1, 2]}), NOT_NULL)
    index = session.build_docs()
    assert index == docs / "index.html"
    return docs


def test_no_page_loads_an_asset_from_the_internet(site: Path) -> None:
    pages = list(site.rglob("*.html"))
    assert len(pages) >= 5  # the index, two validations, two suites
    for page in [*pages, *site.rglob("*.css")]:
        assert not ASSET_URL.findall(page.read_text(encoding="utf-8")), page
    stylesheet = site / "static" / "styles" / "journey_offline.css"
    assert stylesheet.is_file()
    for page in pages:  # every page links the local stylesheet, by a path that resolves from it
        html = page.read_text(encoding="utf-8")
        hrefs = re.findall(r'<link rel="stylesheet" href="([^"]+journey_offline\.css)">', html)
        assert [(page.parent / href).resolve() for href in hrefs] == [stylesheet.resolve()], page


def test_the_run_name_is_the_journey_run_id(site: Path) -> None:
    everything = " ".join(page.read_text(encoding="utf-8") for page in site.rglob("*.html"))
    assert "__none__" not in everything
    validations = list((site / "validations").rglob("*.html"))
    assert len(validations) == 2
    assert all(page.parent.parent.name == "20260302T020000-1a2b3c" for page in validations)
    assert all("20260302T020000-1a2b3c" in page.read_text(encoding="utf-8") for page in validations)


def test_the_index_links_every_validation_with_its_status(site: Path) -> None:
    html = (site / "index.html").read_text(encoding="utf-8")
    links = re.findall(r'href="([^"]+)"', html)
    assert all((site / link).is_file() for link in links), links
    assert sum(link.startswith("validations/") for link in links) == 2
    rows = re.findall(r"<tr><td><a [^>]*>([^<]+)</a></td><td><span [^>]*>(\w+)</span></td><td>([^<]+)</td>", html)
    assert rows == [("staging.complaints", "failed", "0 of 1"), ("staging.reviews", "passed", "1 of 1")]
    assert "<script" not in html
