"""Publishing swaps the working copy in atomically; readers of the old file are never disturbed."""

from pathlib import Path

import duckdb
import pytest

from journey.config import Settings
from journey.errors import MissingInput
from journey.warehouse.publish import (
    discard_working_copy,
    prepare_working_copy,
    publish,
    require_published_warehouse,
)


def _write(path: Path, value: int) -> None:
    conn = duckdb.connect(str(path))
    conn.execute("create or replace table t as select ? as v", [value])
    conn.close()


def test_reader_keeps_old_data_new_connection_sees_new(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    work = prepare_working_copy(settings)
    _write(work, 1)
    publish(settings)
    reader = duckdb.connect(str(settings.warehouse_path), read_only=True)
    assert reader.execute("select v from t").fetchone() == (1,)

    work = prepare_working_copy(settings)
    assert duckdb.connect(str(work), read_only=True).execute("select v from t").fetchone() == (1,)
    _write(work, 2)
    publish(settings)
    assert reader.execute("select v from t").fetchone() == (1,), "an open reader is not disturbed"
    reader.close()
    fresh = duckdb.connect(str(settings.warehouse_path), read_only=True)
    assert fresh.execute("select v from t").fetchone() == (2,)
    fresh.close()


def test_stale_working_copy_is_discarded_and_published_untouched(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    _write(prepare_working_copy(settings), 1)
    publish(settings)
    stale = prepare_working_copy(settings)
    _write(stale, 99)  # a run that died before publish
    work = prepare_working_copy(settings)  # the next run starts again from the published file
    assert duckdb.connect(str(work), read_only=True).execute("select v from t").fetchone() == (1,)
    discard_working_copy(settings)
    assert not settings.work_path.exists()
    conn = duckdb.connect(str(settings.warehouse_path), read_only=True)
    assert conn.execute("select v from t").fetchone() == (1,)


def test_commands_that_read_the_warehouse_need_one_published(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    with pytest.raises(MissingInput, match="No published warehouse at") as missing:
        require_published_warehouse(settings)
    assert str(settings.warehouse_path) in str(missing.value)
    assert "`journey run`" in missing.value.hint and "`make demo`" in missing.value.hint
    other = tmp_path / "elsewhere.duckdb"
    with pytest.raises(MissingInput, match=str(other)):
        require_published_warehouse(settings, other)
    _write(prepare_working_copy(settings), 1)
    publish(settings)
    assert require_published_warehouse(settings) == settings.warehouse_path
    duckdb.connect(str(other)).close()
    assert require_published_warehouse(settings, other) == other
