"""One Great Expectations session per gate: pandas-backed validations and their Data Docs site.

Pandas-backed because GX's SQL datasource over duckdb-engine returns no rows (GX #11579); the gate
hands over only this run's increment. The context is ephemeral (nothing GX-specific to keep in git:
suites live in ``expectations/`` as plain JSON), results are stored in memory for the run and
rendered as a Data Docs site under ``site/quality/<stage>/``.

The site opens offline: GX's pages load Bootstrap, jQuery, Font Awesome, Vega … from CDNs and its
index draws its tables with bootstrap-table from a CDN, so after GX renders the site every page loses
its remote assets for a local stylesheet (``static/styles/journey_offline.css``), and the index is
rewritten as plain HTML linking each validation (``offline_site``). Validations carry the journey run
id as their run name (GX's default is ``__none__``).
"""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Any

import pandas as pd

#: every failing row's index (the gate quarantines by it), no failing value rendered or kept
_RESULT_FORMAT = {"result_format": "COMPLETE", "partial_unexpected_count": 0, "return_unexpected_index_query": False}


@dataclass(frozen=True)
class Validated:
    """One validation of the session, as the offline index lists it."""

    suite: str
    success: bool
    evaluated: int
    successful: int
    run_time: str  # GX's folder name for the validation's run time, e.g. 20260302T020000.123456Z


class GxSession:
    """Validate frames against suites; build the Data Docs site of everything validated."""

    def __init__(self, docs_dir: Path | None, run_name: str | None = None) -> None:
        os.environ["GX_ANALYTICS_ENABLED"] = "false"
        # GX logs every ephemeral context's temporary docs folder at INFO: noise in a nightly log.
        logging.getLogger("great_expectations").setLevel(logging.WARNING)
        import great_expectations as gx
        from great_expectations.data_context.types.base import ProgressBarsConfig

        self._gx = gx
        self._context = gx.get_context(mode="ephemeral")
        self._context.variables.progress_bars = ProgressBarsConfig(globally=False)
        self._datasource = self._context.data_sources.add_pandas("journey")
        self._docs_dir = docs_dir
        self._run_name = run_name
        self._validated: list[Validated] = []
        self._definitions: dict[str, Any] = {}
        if docs_dir is not None:
            self._context.add_data_docs_site(
                "journey",
                {
                    "class_name": "SiteBuilder",
                    "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(docs_dir)},
                    "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
                },
            )

    def validate(self, name: str, frame: pd.DataFrame, expectations: list[dict[str, Any]]) -> list[Any]:
        """Run suite ``name`` over ``frame``; COMPLETE results (failing row indexes included). The
        expectations are read on the suite's first frame of the session.

        No failing value is kept for Data Docs (``partial_unexpected_count`` 0): a value a check refuses
        may be an identifier typed into a coded column (a phone in ``complaints.category``), and the
        site is read by people the warehouse does not show it to. The row indexes say where."""
        definition = self._definitions.get(name)
        if definition is None:
            definition = self._definitions[name] = self._define(name, expectations)
        from great_expectations.core.run_identifier import RunIdentifier

        run_id = RunIdentifier(run_name=self._run_name) if self._run_name else None
        result = definition.run(batch_parameters={"dataframe": frame}, result_format=_RESULT_FORMAT, run_id=run_id)
        statistics = result.statistics
        self._validated.append(Validated(
            suite=name, success=bool(result.success), evaluated=int(statistics.get("evaluated_expectations", 0)),
            successful=int(statistics.get("successful_expectations", 0)),
            run_time=result.meta["run_id"].run_time.strftime("%Y%m%dT%H%M%S.%fZ"),
        ))
        return list(result.results)

    def _define(self, name: str, expectations: list[dict[str, Any]]) -> Any:
        """The validation definition of suite ``name`` over a whole dataframe (one per session: a
        suite validated chunk by chunk reuses it)."""
        from great_expectations.expectations.expectation_configuration import ExpectationConfiguration

        gx = self._gx
        asset = self._datasource.add_dataframe_asset(name)
        batch_definition = asset.add_batch_definition_whole_dataframe("increment")
        suite = self._context.suites.add(
            gx.ExpectationSuite(
                name=name,
                expectations=[
                    ExpectationConfiguration(type=e["type"], kwargs=e["kwargs"], meta=e.get("meta", {})).to_domain_obj()
                    for e in expectations
                ],
            )
        )
        return self._context.validation_definitions.add(
            gx.ValidationDefinition(name=name, data=batch_definition, suite=suite)
        )

    def build_docs(self) -> Path | None:
        """Write the Data Docs site (``index.html``) for this session's validations."""
        if self._docs_dir is None or not self._validated:
            return None
        self._docs_dir.mkdir(parents=True, exist_ok=True)
        self._context.build_data_docs(site_names=["journey"])
        return offline_site(self._docs_dir, self._validated, self._run_name)


#: a stylesheet or script GX loads from outside the site (CDNs); removed from every page
_REMOTE_ASSET = re.compile(
    r"<link\b[^>]*\bhref=[\"']https?://[^>]*>|<script\b[^>]*\bsrc=[\"']https?://[^>]*>\s*</script>", re.IGNORECASE
)
_REMOTE_SRC = re.compile(r"""\bsrc=["']https?://[^"']*["']""", re.IGNORECASE)
_REMOTE_URL = re.compile(r"""url\(\s*["']?https?://[^)]*\)""", re.IGNORECASE)
_FOOTER = re.compile(r"<footer>.*?</footer>", re.IGNORECASE | re.DOTALL)  # GX's newsletter link
# What the CDN's Bootstrap and Font Awesome gave: readable tables, tabs and collapsed sections open
# (their scripts are gone), check and cross marks for the icons.
OFFLINE_CSS = """body{font-family:system-ui,-apple-system,"Segoe UI","PingFang SC","Microsoft YaHei","Noto Sans CJK SC",
sans-serif;margin:0 24px 40px;color:#212529;line-height:1.45}
a{color:#0b5cad}table{border-collapse:collapse;margin:8px 0 16px;max-width:100%}
th,td{border:1px solid #d0d7de;padding:4px 8px;text-align:left;vertical-align:top}th{background:#f3f5f7}
.tab-pane,.collapse,.fade{display:block!important;opacity:1!important}.modal,.d-none,.btn,button{display:none!important}
.card{border:1px solid #d0d7de;border-radius:4px;margin:12px 0;padding:8px 12px}
.text-danger{color:#b42318}.text-success{color:#1a7f37}.badge{padding:1px 6px;border-radius:3px;background:#eef}
.fas,.fa{font-style:normal}.fa-check-circle::before,.fa-check::before{content:"\\2714"}
.fa-times::before,.fa-times-circle::before{content:"\\2718"}
.cooltip .top,.popover{display:none}
"""
_OFFLINE_CSS_PATH = Path("static") / "styles" / "journey_offline.css"
# GX's inline scripts call jQuery (a CDN script): a callable that returns itself for any call or
# property keeps them from throwing, and does nothing.
_JQUERY_STUB = (
    "<script>(function(){var s=new Proxy(function(){return s},{get:function(t,k){return k==='length'?0:s}});"
    "window.$=window.jQuery=s;})();</script>"
)


def offline_site(docs_dir: Path, validated: list[Validated], run_name: str | None) -> Path:
    """Make the Data Docs site under ``docs_dir`` open offline (see the module docstring); return its index."""
    css = docs_dir / _OFFLINE_CSS_PATH
    css.parent.mkdir(parents=True, exist_ok=True)
    css.write_text(OFFLINE_CSS, encoding="utf-8")
    for page in docs_dir.rglob("*.html"):
        href = Path(os.path.relpath(css, page.parent)).as_posix()
        logo = Path(os.path.relpath(docs_dir / "static" / "images" / "logo-long.png", page.parent)).as_posix()
        html = _REMOTE_ASSET.sub("", page.read_text(encoding="utf-8"))
        html = _REMOTE_SRC.sub(f'src="{escape(logo)}"', html)  # GX's logo, from its own static folder
        html = _REMOTE_URL.sub("none", _FOOTER.sub("", html))
        html = html.replace("</head>", f'<link rel="stylesheet" href="{escape(href)}">{_JQUERY_STUB}</head>', 1)
        page.write_text(html, encoding="utf-8")
    for stylesheet in docs_dir.rglob("*.css"):  # GX's own copies (a background logo from S3)
        stylesheet.write_text(_REMOTE_URL.sub("none", stylesheet.read_text(encoding="utf-8")), encoding="utf-8")
    index = docs_dir / "index.html"
    index.write_text(_index_html(docs_dir, validated, run_name), encoding="utf-8")
    return index


def _index_html(docs_dir: Path, validated: list[Validated], run_name: str | None) -> str:
    """A plain-HTML index of the session's validations (GX's own draws its table with a CDN script)."""
    pages = {page.parent.name: page for page in (docs_dir / "validations").rglob("*.html")}
    rows = []
    for item in sorted(validated, key=lambda v: (v.suite, v.run_time)):
        page = pages.get(item.run_time)
        suite = escape(item.suite)
        link = f'<a href="{escape(page.relative_to(docs_dir).as_posix())}">{suite}</a>' if page else suite
        status = ('<span class="text-success">passed</span>' if item.success
                  else '<span class="text-danger">failed</span>')
        rows.append(f"<tr><td>{link}</td><td>{status}</td><td>{item.successful} of {item.evaluated}</td>"
                    f"<td>{escape(item.run_time)}</td></tr>")
    title = f"Data quality — run {escape(run_name)}" if run_name else "Data quality"
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
        f'<link rel="stylesheet" href="{_OFFLINE_CSS_PATH.as_posix()}"></head><body><h1>{title}</h1>'
        "<p>Every Great Expectations validation of this stage in the run (one per suite and chunk); no failing "
        "value is shown, only counts (ops.dq_results holds every result).</p>"
        "<table><thead><tr><th>Suite</th><th>Status</th><th>Expectations met</th><th>Run time (UTC)</th></tr></thead>"
        "<tbody>" + "".join(rows) + "</tbody></table></body></html>\n"
    )
