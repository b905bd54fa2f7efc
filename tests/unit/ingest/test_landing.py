from datetime import date
from pathlib import Path

import pytest

from journey.errors import LandingError
from journey.ingest.landing import discover, landed_days


def test_days_and_files_are_found_in_order(tmp_path: Path) -> None:
    for source, day, name in [("crm", "2026-01-06", "touches.jsonl"), ("ehr", "2026-01-05", "Encounter.ndjson"),
                              ("ehr", "2026-01-06", "Patient.ndjson"), ("ehr", "not-a-day", "x.ndjson")]:
        (tmp_path / source / day).mkdir(parents=True, exist_ok=True)
        (tmp_path / source / day / name).write_text("{}\n")
    assert landed_days(tmp_path) == [date(2026, 1, 5), date(2026, 1, 6)]
    files = discover(tmp_path, [date(2026, 1, 6), date(2026, 1, 5)])
    assert [f.relative_path for f in files] == [
        "ehr/2026-01-05/Encounter.ndjson", "ehr/2026-01-06/Patient.ndjson", "crm/2026-01-06/touches.jsonl",
    ]
    assert files[0].sha256 == "ca3d163bab055381827226140568f3bef7eaac187cebd76878e0b63e9e442356"  # sha256 of "{}\n"


def test_symlink_escaping_the_landing_root_is_refused(tmp_path: Path) -> None:
    outside = tmp_path / "outside.ndjson"
    outside.write_text("{}\n")
    landing = tmp_path / "landing"
    (landing / "ehr" / "2026-01-05").mkdir(parents=True)
    (landing / "ehr" / "2026-01-05" / "Encounter.ndjson").symlink_to(outside)
    with pytest.raises(LandingError, match="symbolic links"):
        discover(landing, [date(2026, 1, 5)])
