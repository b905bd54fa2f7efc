"""`journey docs`: the dbt docs site, the GX Data Docs and the dashboard under one site/ folder,
with an index page linking them, and a local read-only web server for it.

dbt docs are generated against a throw-away copy of the published warehouse: dbt-duckdb opens its
database read-write, which would lock analysts' read-only connections out of the published file.
GX Data Docs describe one run's validations, so the nightly flow writes them (site/quality/<stage>/);
this module links whatever the last run left.
"""

from __future__ import annotations

import functools
import logging
import threading
from dataclasses import dataclass, field
from html import escape
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from journey.config import Settings
from journey.errors import JourneyError
from journey.warehouse.publish import copy_file, require_published_warehouse

log = logging.getLogger(__name__)

QUALITY_STAGES: tuple[str, ...] = ("landing", "staging", "marts")


@dataclass
class DocsResult:
    index: Path
    dbt: Path | None = None
    quality: dict[str, Path] = field(default_factory=dict)
    report: Path | None = None


def build_dbt_docs(settings: Settings) -> Path:
    """dbt docs generate on a copy of the published warehouse; returns site/dbt/index.html."""
    from journey.transform.dbt import build_docs_site

    published = require_published_warehouse(settings)
    # Same file name as the nightly working copy, in a folder of its own: dbt's profile (and so its
    # partial-parse state) stays the one the nightly run uses.
    copy = settings.warehouse_dir / "docs" / settings.work_path.name
    copy.parent.mkdir(parents=True, exist_ok=True)
    try:
        copy_file(published, copy)
        return build_docs_site(settings, copy)
    finally:
        copy.unlink(missing_ok=True)
        copy.with_name(copy.name + ".wal").unlink(missing_ok=True)


def quality_sites(settings: Settings) -> dict[str, Path]:
    """The GX Data Docs index of each stage the last run validated."""
    found = {}
    for stage in QUALITY_STAGES:
        index = settings.site_dir / "quality" / stage / "index.html"
        if index.is_file():
            found[stage] = index
    return found


def write_index(settings: Settings, result: DocsResult) -> Path:
    """site/index.html: one page linking the dashboard, the dbt docs and each GX Data Docs site."""
    site = settings.site_dir

    def link(path: Path | None, label: str, missing: str) -> str:
        if path is None:
            return f"<li>{escape(label)}: <i>{escape(missing)}</i></li>"
        return f"<li><a href='{escape(path.relative_to(site).as_posix())}'>{escape(label)}</a></li>"

    items = [
        link(result.report, "Patient experience dashboard", "not built yet: run `journey report`"),
        link(result.dbt, "dbt docs: every model, column, metric definition and lineage", "not built"),
    ]
    for stage in QUALITY_STAGES:
        items.append(link(result.quality.get(stage), f"Data quality ({stage}): Great Expectations Data Docs",
                          "written by the next nightly run (`journey run`)"))
    html = (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>journey — sites</title>"
        "<style>body{font-family:sans-serif;margin:40px;max-width:800px}li{margin:8px 0}</style></head><body>"
        "<h1>journey</h1><ul>" + "".join(items) + "</ul></body></html>\n"
    )
    site.mkdir(parents=True, exist_ok=True)
    index = site / "index.html"
    index.write_text(html, encoding="utf-8")
    return index


def build_docs(settings: Settings, *, dbt: bool = True) -> DocsResult:
    """Build the dbt docs (unless ``dbt`` is false), collect the GX sites, write site/index.html."""
    dbt_index = build_dbt_docs(settings) if dbt else None
    if dbt_index is None and (settings.site_dir / "dbt" / "index.html").is_file():
        dbt_index = settings.site_dir / "dbt" / "index.html"
    report = settings.site_dir / "report" / "index.html"
    result = DocsResult(index=settings.site_dir / "index.html", dbt=dbt_index, quality=quality_sites(settings),
                        report=report if report.is_file() else None)
    result.index = write_index(settings, result)
    return result


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the stdlib's name
        log.debug("http " + format, *args)


def make_server(directory: Path, port: int = 0) -> ThreadingHTTPServer:
    """A static file server for ``directory`` on 127.0.0.1 (port 0 = a free port); not started."""
    if not directory.is_dir():
        raise JourneyError(f"Nothing to serve: {directory} does not exist; run `journey docs` first.")
    handler = functools.partial(_QuietHandler, directory=str(directory))
    try:
        return ThreadingHTTPServer(("127.0.0.1", port), handler)
    except OSError as error:
        raise JourneyError(f"Cannot serve on 127.0.0.1:{port}: {error}; pick another --port (0 = any free).") from error


def serve_in_thread(server: ThreadingHTTPServer) -> threading.Thread:
    thread = threading.Thread(target=server.serve_forever, name="journey-docs", daemon=True)
    thread.start()
    return thread
