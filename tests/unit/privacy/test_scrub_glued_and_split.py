"""Issue #21: identifiers the scrubber (``journey_scrub``) used to miss — glued to letters, split by dots,
slashes, spaced dashes, line breaks or zero-width characters, Chinese numerals mixed with ASCII digits,
full-width ``＠`` — and the ordinary numbers around them that must survive."""

from __future__ import annotations

import duckdb
import pytest

from journey.ingest.pseudonymise import install_scrub_macros


@pytest.fixture(scope="module")
def conn() -> duckdb.DuckDBPyConnection:
    connection = duckdb.connect()
    install_scrub_macros(connection)
    return connection


def scrub(conn: duckdb.DuckDBPyConnection, text: str) -> str:
    row = conn.execute("select journey_scrub(?)", [text]).fetchone()
    assert row is not None
    return str(row[0])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # glued to letters, before or after
        ("Tel18677776543", "Tel[phone]"),
        ("call me: TEL18677776543 please", "call me: TEL[phone] please"),
        ("mobile13812345678or wechat", "mobile[phone]or wechat"),
        ("ID44030519850612771X", "ID[id]"),
        ("idcard440305198506127714号", "idcard[id]号"),
        ("No.440305198506127", "No.[id]"),
        # dots, slashes, spaced dashes
        ("186.7777.6543", "[phone]"),
        ("请打 138 - 1234 - 5678 谢谢", "请打 [phone] 谢谢"),
        ("138/1234/5678", "[phone]"),
        ("身份证 440305.1985.0612.771X", "身份证 [id]"),
        ("ID 440305/19850612/7714", "ID [id]"),
        # line breaks: between groups and inside one
        ("电话138\n1234\n5678", "电话[phone]"),
        ("电话1381\r\n2345678结束", "电话[phone]结束"),
        ("身份证4403051985\n06127714", "身份证[id]"),
        # zero-width characters anywhere (deleted with the number)
        ("电话138\u200b1234\u200b5678", "电话[phone]"),
        ("Tel1\u200c8\u200d6\u20607777\ufeff6543", "Tel[phone]"),
        ("身份证44030519850612\u200b771X", "身份证[id]"),
        # Chinese numerals mixed with ASCII digits, ASCII first
        ("138一二三四五六七八", "[phone]"),
        ("手机13八一二三四五六七八，谢谢", "手机[phone]，谢谢"),
        ("身份证440305一九八五〇六一二七七一X", "身份证[id]"),
        # full-width digits and ＠
        ("ＴＥＬ１８６７７７７６５４３", "TEL[phone]"),
        ("邮箱 zhang.san＠163.com 谢谢", "邮箱 [email] 谢谢"),
        ("mail: li_si＠ｅｘａｍｐｌｅ．ｏｒｇ", "mail: [email]"),
        # two numbers one character apart, both found
        ("Tel18677776543/13812345678", "Tel[phone]/[phone]"),
    ],
)
def test_glued_and_split_identifiers_are_scrubbed(conn: duckdb.DuckDBPyConnection, text: str, expected: str) -> None:
    assert scrub(conn, text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "复诊时间 2026-01-07 10:00，请提前15分钟",
        "2026/01/07 13:45 到 2026.01.08 09:30",
        "time 10:00-11:45, 13:00-17:30",
        "费用 ¥1,280.00，押金 ¥3,000.00",
        "amount 12,345.67 paid on 2026-01-07",
        "就诊号 ENC-000123，住院号 ZY-2026-000045",
        "encounter ENC-000123 / ENC-000124",
        "等了3个小时，排在第25号，138分钟后才看上",
        "order 20260105123456789012 and ref 138123456789012345678",
        "血压 120/80，体温 37.5，心率 88",
        "床号 13-02，3 楼 12 号诊室",
        "我一直等了一个小时，三楼二号诊室",
        "一三五七九号床，共计一百三十八元",
    ],
)
def test_dates_times_amounts_and_ids_survive(conn: duckdb.DuckDBPyConnection, text: str) -> None:
    assert scrub(conn, text) == text
