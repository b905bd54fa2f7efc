"""One Great Expectations session per gate: pandas-backed validations and their Data Docs site.

Pandas-backed because GX's SQL datasource over duckdb-engine returns no rows (GX #11579); the gate
hands over only this run's increment. The context is ephemeral (nothing GX-specific to keep in git:
suites live in ``expectations/`` as plain JSON), results are stored in memory for the run and
rendered as a Data Docs site under ``site/quality/<stage>/``.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import pandas as pd

#: every failing row's index (the gate quarantines by it), no failing value rendered or kept
_RESULT_FORMAT = {"result_format": "COMPLETE", "partial_unexpected_count": 0, "return_unexpected_index_query": False}


class GxSession:
    """Validate frames against suites; build the Data Docs site of everything validated."""

    def __init__(self, docs_dir: Path | None) -> None:
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
        self._validated = 0
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
        result = definition.run(batch_parameters={"dataframe": frame}, result_format=_RESULT_FORMAT)
        self._validated += 1
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
        if self._docs_dir is None or self._validated == 0:
            return None
        self._docs_dir.mkdir(parents=True, exist_ok=True)
        self._context.build_data_docs(site_names=["journey"])
        return self._docs_dir / "index.html"
