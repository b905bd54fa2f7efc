"""The dashboard's message catalogue: both languages complete, formats per language, the default."""

from __future__ import annotations

import re
import string

import pytest

from journey.report import messages


def test_every_message_has_both_languages_with_the_same_placeholders() -> None:
    fields = lambda text: {name for _, name, _, _ in string.Formatter().parse(text) if name}  # noqa: E731
    for key, texts in messages.CATALOGUE.items():
        assert set(texts) == {"en", "zh"}, key
        assert texts["en"].strip() and texts["zh"].strip(), key
        assert fields(texts["en"]) == fields(texts["zh"]), key


def test_chinese_messages_are_chinese() -> None:
    # every prose message (not a pure format or code) carries CJK characters in zh
    han = re.compile(r"[\u4e00-\u9fff]")
    words = lambda text: re.sub(r"\{[^}]*\}|journey|%\{[^}]*\}", "", text)  # noqa: E731
    prose = [key for key, texts in messages.CATALOGUE.items()
             if re.search(r"[A-Za-z]{4,}", words(texts["en"])) and not key.startswith("page.html")]
    missing = [key for key in prose if not han.search(messages.CATALOGUE[key]["zh"])]
    assert missing == [], missing


@pytest.mark.parametrize(
    ("value", "unit", "language", "expected"),
    [(0.953, "rate", "en", "95.3 %"), (0.953, "rate", "zh-CN", "95.3%"), (72, "pct", "en", "72.0 %"),
     (41.4, "minutes", "en", "41 min"), (41.4, "minutes", "zh-CN", "41 分钟"), (35.25, "score", "zh-CN", "35.2"),
     (None, "rate", "en", "—"), (float("nan"), "pct", "zh-CN", "—")],
)
def test_format_kpi(value: object, unit: str, language: str, expected: str) -> None:
    assert messages.format_kpi(value, unit, language) == expected


@pytest.mark.parametrize(
    ("delta", "unit", "language", "expected"),
    [(0.021, "rate", "en", "+2.1 pp"), (-0.021, "rate", "zh-CN", "-2.1 个百分点"), (-3.0, "pct", "en", "-3.0 pp"),
     (5.0, "minutes", "zh-CN", "+5 分钟"), (4.25, "score", "en", "+4.2"), (None, "score", "en", "—")],
)
def test_format_change(delta: object, unit: str, language: str, expected: str) -> None:
    assert messages.format_change(delta, unit, language) == expected


def test_month_labels() -> None:
    assert messages.month_label("2026-03-01", "en") == "Mar 2026"
    assert messages.month_label("2026-03-01", "zh-CN") == "2026年3月"


@pytest.mark.parametrize(
    ("setting", "timezone", "expected"),
    [(None, "Asia/Shanghai", "zh-CN"), (None, "Asia/Urumqi", "zh-CN"), (None, "Europe/Berlin", "en"),
     ("en", "Asia/Shanghai", "en"), ("zh-CN", "America/New_York", "zh-CN")],
)
def test_resolve_language(setting: str | None, timezone: str, expected: str) -> None:
    assert messages.resolve_language(setting, timezone) == expected


def test_resolve_language_refuses_an_unknown_one() -> None:
    with pytest.raises(ValueError, match="zh-CN, en"):
        messages.resolve_language("fr", "UTC")


def test_font_stack_covers_windows_macos_and_linux_cjk() -> None:
    for face in ("Microsoft YaHei", "PingFang SC", "Noto Sans CJK SC"):
        assert f'"{face}"' in messages.FONT_STACK
    assert messages.FONT_STACK.endswith("sans-serif")
