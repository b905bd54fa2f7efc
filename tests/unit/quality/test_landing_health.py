"""Freshness counts deliveries: a file outside the source contract (``ignored`` in a manifest written
before discovery refused such files) is no delivery, so a day holding only such a file is missing."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import duckdb

from journey.config import Settings
from journey.quality.landing_health import landing_health
from journey.warehouse.schema import ensure_schema

DAY = date(2026, 3, 9)


def test_an_ignored_file_is_not_a_delivery(settings: Settings) -> None:
    with duckdb.connect(":memory:") as conn:
        ensure_schema(conn)
        for batch, day, path, status in [
            ("b1", DAY - timedelta(days=7), "ehr/2026-03-02/Encounter.ndjson", "loaded"),  # same weekday before
            ("b2", DAY, "ehr/2026-03-09/Encounter.NDJSON.zip", "ignored"),
        ]:
            conn.execute(
                "insert into raw.load_manifest values (?, 'r', 'ehr', ?, ?, 1, 'x', null, 0, 0, 0, 0, ?, null, ?, "
                "null, null)", [batch, day, path, status, datetime(2026, 3, 10)])
        frame = landing_health(conn, settings, [DAY])
    files = frame.loc[frame["raw_table"] == "ehr_encounter", "files"].tolist()
    assert files == [0], "the ehr drop of the day is missing: its only file was not a delivery"
