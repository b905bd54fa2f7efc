"""Which destinations an alert goes to, from the settings (no network: delivery is tested in
tests/integration/test_ops_alerts.py against local receivers)."""

from __future__ import annotations

from pathlib import Path

import pytest

from journey.config import Settings
from journey.ops.alerts import alert_urls, as_json_url
from journey.ops.prefect_server import api_configured


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://127.0.0.1:8080/hooks/journey?token=s3cret", "json://127.0.0.1:8080/hooks/journey?-token=s3cret"),
        ("https://alerts.example.org/in", "jsons://alerts.example.org/in"),
        ("wecombot://BOTKEY", "wecombot://BOTKEY"),
    ],
)
def test_a_plain_webhook_becomes_apprise_json_keeping_its_query(url: str, expected: str) -> None:
    assert as_json_url(url) == expected


def test_one_setting_holds_several_urls_and_the_webhook_joins_them(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JOURNEY_ALERT_URLS", " wecombot://KEY1,dingtalk://TOKEN2/\n\tmailto://ops:pw@mail.example.org ")
    monkeypatch.setenv("JOURNEY_WEBHOOK_URL", "https://hooks.example.org/journey")
    assert alert_urls(Settings()) == [
        "wecombot://KEY1",
        "dingtalk://TOKEN2/",
        "mailto://ops:pw@mail.example.org",
        "jsons://hooks.example.org/journey",
    ]
    monkeypatch.delenv("JOURNEY_ALERT_URLS")
    monkeypatch.delenv("JOURNEY_WEBHOOK_URL")
    assert alert_urls(Settings()) == []


def test_a_prefect_server_counts_as_configured_from_the_environment_or_the_active_profile(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    monkeypatch.delenv("PREFECT_PROFILE", raising=False)
    monkeypatch.delenv("PREFECT_PROFILES_PATH", raising=False)
    monkeypatch.setenv("PREFECT_HOME", str(tmp_path))
    assert api_configured() is False, "no profiles file"
    (tmp_path / "profiles.toml").write_text(
        'active = "local"\n[profiles.local]\nPREFECT_API_URL = "http://127.0.0.1:4200/api"\n[profiles.ephemeral]\n',
        encoding="utf-8",
    )
    assert api_configured() is True
    monkeypatch.setenv("PREFECT_PROFILE", "ephemeral")
    assert api_configured() is False
    monkeypatch.setenv("PREFECT_API_URL", "http://127.0.0.1:4200/api")
    assert api_configured() is True
