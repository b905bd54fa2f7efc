"""`journey docs`: the dbt docs site, the GX Data Docs and the dashboard under one site/ folder,
with an index page linking them, and a local read-only web server for it.

dbt docs are generated against a throw-away copy of the published warehouse: dbt-duckdb opens its
database read-write, which would lock analysts' read-only connections out of the published file.
GX Data Docs describe one run's validations, so the nightly flow writes them (site/quality/<stage>/);
this module links whatever the last run left. Every link is relative and opens from disk (file://):
the dbt docs link is ``dbt/static_index.html`` (``dbt docs generate --static``: manifest and catalog
inlined), since dbt's ``index.html`` fetches its JSON and stays blank without a web server.
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


#: The landing page's words, in one place (to translate with the dashboard's).
INDEX_TEXT: dict[str, str] = {
    "title": "journey — patient experience",
    "report": "Patient experience dashboard",
    "report_missing": "not built yet: run `journey report`",
    "dbt": "dbt docs: every model, column, metric definition and lineage",
    "dbt_missing": "not built yet: run `journey docs`",
    "quality": "Data quality ({stage}): Great Expectations Data Docs of the last run",
    "quality_missing": "written by the next nightly run (`journey run`)",
    "warehouse": "Warehouse (open read-only; every table and column is described, as DuckDB comments)",
}


def dbt_docs_page(site_dir: Path) -> Path | None:
    """The dbt docs page that opens from disk (static_index.html), else the served one, else None."""
    for name in ("static_index.html", "index.html"):
        if (site_dir / "dbt" / name).is_file():
            return site_dir / "dbt" / name
    return None


def write_index(settings: Settings, result: DocsResult) -> Path:
    """site/index.html: one page linking the dashboard, the dbt docs and each GX Data Docs site, by
    relative links (it opens from disk); what is not built yet is named with the command that builds it."""
    site = settings.site_dir
    text = INDEX_TEXT

    def link(path: Path | None, label: str, missing: str) -> str:
        if path is None:
            return f"<li>{escape(label)}: <i>{escape(missing)}</i></li>"
        return f"<li><a href='{escape(path.relative_to(site).as_posix())}'>{escape(label)}</a></li>"

    items = [
        link(result.report, text["report"], text["report_missing"]),
        link(result.dbt, text["dbt"], text["dbt_missing"]),
    ]
    for stage in QUALITY_STAGES:
        items.append(link(result.quality.get(stage), text["quality"].format(stage=stage), text["quality_missing"]))
    items.append(f"<li>{escape(text['warehouse'])}: <code>{escape(str(settings.warehouse_path))}</code></li>")
    html = (
        f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{escape(text['title'])}</title>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        "<style>body{font-family:system-ui,-apple-system,'Segoe UI','PingFang SC','Microsoft YaHei',"
        "'Noto Sans CJK SC',sans-serif;margin:24px;max-width:800px}li{margin:8px 0}code{word-break:break-all}"
        f"</style></head><body><h1>{escape(text['title'])}</h1><ul>" + "".join(items) + "</ul></body></html>\n"
    )
    site.mkdir(parents=True, exist_ok=True)
    index = site / "index.html"
    index.write_text(html, encoding="utf-8")
    return index


def build_docs(settings: Settings, *, dbt: bool = True) -> DocsResult:
    """Build the dbt docs (unless ``dbt`` is false), collect the GX sites, write site/index.html."""
    if dbt:
        build_dbt_docs(settings)
    return write_site_index(settings)


def write_site_index(settings: Settings) -> DocsResult:
    """Link what site/ holds now (dashboard, dbt docs, GX Data Docs) from site/index.html; builds nothing.
    The nightly flow calls this after its docs and report steps."""
    report = settings.site_dir / "report" / "index.html"
    result = DocsResult(index=settings.site_dir / "index.html", dbt=dbt_docs_page(settings.site_dir),
                        quality=quality_sites(settings), report=report if report.is_file() else None)
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
