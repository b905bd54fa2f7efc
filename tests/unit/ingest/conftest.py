"""Shared by the ingest tests: an empty raw warehouse with the load macros installed."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from journey.ingest.pseudonymise import install_macros
from journey.warehouse.schema import ensure_schema


@pytest.fixture
def conn(tmp_path: Path) -> duckdb.DuckDBPyConnection:
    """A DuckDB file with journey's schema and the pseudonymisation macros (secret ``b"secret"``)."""
    connection = duckdb.connect(str(tmp_path / "w.duckdb"))
    ensure_schema(connection)
    install_macros(connection, b"secret")
    return connection
