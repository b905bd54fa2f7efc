"""Publishing swaps the working copy in atomically; readers of the old file are never disturbed."""

import errno
import os
from pathlib import Path

import duckdb
import pytest

from journey.config import Settings
from journey.errors import MissingInput
from journey.warehouse.publish import (
    copy_file,
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


def _large_file(path: Path) -> bytes:
    data = os.urandom(3 << 20) + b"tail"  # an odd size
    path.write_bytes(data)
    return data


def test_copy_file_copies_every_byte_in_the_kernel(tmp_path: Path) -> None:
    data = _large_file(tmp_path / "source.bin")
    copy_file(tmp_path / "source.bin", tmp_path / "target.bin")
    assert (tmp_path / "target.bin").read_bytes() == data


@pytest.mark.parametrize("refusal", [errno.ENOSYS, errno.EXDEV, errno.EOPNOTSUPP])
def test_copy_file_copies_in_user_space_where_the_kernel_refuses(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, refusal: int
) -> None:
    def refuse(*_: object) -> int:
        raise OSError(refusal, os.strerror(refusal))

    data = _large_file(tmp_path / "source.bin")
    monkeypatch.setattr(os, "copy_file_range", refuse)
    copy_file(tmp_path / "source.bin", tmp_path / "target.bin")
    assert (tmp_path / "target.bin").read_bytes() == data


def test_copy_file_reports_other_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(*_: object) -> int:
        raise OSError(errno.EIO, "I/O error")

    _large_file(tmp_path / "source.bin")
    monkeypatch.setattr(os, "copy_file_range", fail)
    with pytest.raises(OSError, match="I/O error"):
        copy_file(tmp_path / "source.bin", tmp_path / "target.bin")
