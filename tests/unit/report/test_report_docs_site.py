"""site/index.html links what exists; the docs server serves site/ on 127.0.0.1 only."""

from __future__ import annotations

import urllib.request
from pathlib import Path

import pytest

from journey.config import Settings
from journey.errors import JourneyError
from journey.report.docs_site import build_docs, make_server, serve_in_thread


def test_index_links_existing_sites_and_says_what_is_missing(settings: Settings) -> None:
    for relative in ("quality/staging/index.html", "quality/marts/index.html", "dbt/index.html"):
        path = settings.site_dir / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("<html>ok</html>", encoding="utf-8")
    result = build_docs(settings, dbt=False)
    assert sorted(result.quality) == ["marts", "staging"]
    assert result.report is None
    html = result.index.read_text(encoding="utf-8")
    assert "href='quality/staging/index.html'" in html
    assert "href='quality/marts/index.html'" in html
    assert "href='dbt/index.html'" in html
    assert "Data quality (landing)" in html and "written by the next nightly run" in html
    assert "run `journey report`" in html


def test_server_serves_site_on_loopback(tmp_path: Path) -> None:
    (tmp_path / "index.html").write_text("<h1>journey sites</h1>", encoding="utf-8")
    server = make_server(tmp_path, 0)
    try:
        host, port = server.server_address[:2]
        assert host == "127.0.0.1" and port > 0
        serve_in_thread(server)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/index.html", timeout=10) as response:
            assert response.status == 200
            assert b"journey sites" in response.read()
    finally:
        server.shutdown()
        server.server_close()


def test_server_refuses_a_missing_site(tmp_path: Path) -> None:
    with pytest.raises(JourneyError, match="journey docs"):
        make_server(tmp_path / "nope", 0)
