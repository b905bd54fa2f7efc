from pathlib import Path

import pytest

from journey.config import Settings
from journey.errors import ConfigError


def test_every_path_derives_from_the_data_dir(tmp_path: Path) -> None:
    one, two = Settings(data_dir=tmp_path / "a"), Settings(data_dir=tmp_path / "b")
    for attr in ("landing_dir", "warehouse_path", "work_path", "site_dir", "log_dir", "dbt_target_dir",
                 "prefect_home", "default_secret_file", "generator_dir"):
        first, second = getattr(one, attr), getattr(two, attr)
        assert first.is_relative_to(tmp_path / "a") and second.is_relative_to(tmp_path / "b"), attr
    assert one.warehouse_path == (tmp_path / "a" / "warehouse" / "journey.duckdb")
    assert one.landing_dir == tmp_path / "a" / "landing"


def test_env_prefix_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JOURNEY_DATA_DIR", str(tmp_path / "x"))
    monkeypatch.setenv("JOURNEY_MIN_CELL_SIZE", "20")
    monkeypatch.setenv("JOURNEY_THRESHOLDS__MAX_WAIT_HOURS", "24")
    settings = Settings()
    assert settings.root == tmp_path / "x"
    assert settings.min_cell_size == 20
    assert settings.thresholds.max_wait_hours == 24


def test_secret_is_created_once_and_private(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("JOURNEY_SECRET", raising=False)
    settings = Settings(data_dir=tmp_path)
    with pytest.raises(ConfigError, match="JOURNEY_SECRET"):
        settings.pseudonym_key()
    key = settings.pseudonym_key(create=True)
    assert len(key) == 64
    assert settings.pseudonym_key() == key
    assert (settings.default_secret_file.stat().st_mode & 0o777) == 0o600


def test_secret_from_environment_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JOURNEY_SECRET", "from-env")
    assert Settings(data_dir=tmp_path).pseudonym_key() == b"from-env"
