"""Free-text scrubbing (``journey_scrub``, applied at load) on Chinese formats: mobiles, resident IDs,
landlines and e-mails written the ways patients write them, and numbers that must survive."""

from __future__ import annotations

import duckdb
import pytest

from journey.ingest.pseudonymise import install_macros


@pytest.fixture(scope="module")
def conn() -> duckdb.DuckDBPyConnection:
    connection = duckdb.connect()
    install_macros(connection, b"k")
    return connection


def scrub(conn: duckdb.DuckDBPyConnection, text: str) -> str:
    row = conn.execute("select journey_scrub(?)", [text]).fetchone()
    assert row is not None
    return str(row[0])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # mobiles: 11 digits beginning with 1, with +86 / 0086 / 86, spaces or dashes, inside Chinese text
        ("请回电13812345678谢谢", "请回电[phone]谢谢"),
        ("手机：+8613912345678。", "手机：[phone]。"),
        ("手机+86 139 1234 5678", "手机[phone]"),
        ("call +86-139-1234-5678 now", "call [phone] now"),
        ("电话0086 15012345678", "电话[phone]"),
        ("电话8618612345678", "电话[phone]"),
        ("联系方式：186-1234-5678，或者186 8765 4321", "联系方式：[phone]，或者[phone]"),
        ("两个号码13812345678,13987654321", "两个号码[phone],[phone]"),
        # resident IDs: 18 characters (last may be X or x), embedded with no spaces, or grouped
        ("身份证号码是11010119900307123X，请核实", "身份证号码是[id]，请核实"),
        ("身份证11010119900307123x", "身份证[id]"),
        ("证件号110101199003071234挂号", "证件号[id]挂号"),
        ("ID: 110101 19900307 1234", "ID: [id]"),
        ("ID 110101 1990 0307 1234.", "ID [id]."),
        ("老身份证110101900307123", "老身份证[id]"),
        # landlines
        ("办公室电话010-12345678", "办公室电话[phone]"),
        ("(021)6234 5678转分机", "[phone]转分机"),
        ("总机 0755 8888 6666", "总机 [phone]"),
        ("+86 21 6234 5678", "[phone]"),
        # e-mails next to Chinese punctuation
        ("邮箱：zhang.san@163.com。", "邮箱：[email]。"),
        ("请发到Wang_Li+survey@mail.hospital.com.cn谢谢", "请发到[email]谢谢"),
        ("QQ邮箱 123456789@qq.com", "QQ邮箱 [email]"),
    ],
)
def test_contact_details_are_scrubbed(conn: duckdb.DuckDBPyConnection, text: str, expected: str) -> None:
    assert scrub(conn, text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "就诊日期2026-01-05，20260105复诊",
        "2026年1月5日下午3点",
        "费用共计12345.67元，押金3000元",
        "金额 ¥1,380.00",
        "等了138分钟，排在第25号",
        "就诊号ENC13812345678，住院号ZY00012345",
        "encounter E2026010500123 and order 20260105123456",
        "visit on 2026-01-05 at 10:30-11:45",
        "评分9/10，等候45分钟",
        "体温37.5度，血压120/80",
        "room 1208, bed 3",
    ],
)
def test_ordinary_numbers_are_kept(conn: duckdb.DuckDBPyConnection, text: str) -> None:
    assert scrub(conn, text) == text


def test_null_stays_null(conn: duckdb.DuckDBPyConnection) -> None:
    assert conn.execute("select journey_scrub(null)").fetchone() == (None,)


def test_python_re_gives_the_same_result_as_duckdb(conn: duckdb.DuckDBPyConnection) -> None:
    """The worklist re-scrubs excerpts with Python's re over the same SCRUB_PATTERNS."""
    import re

    from journey.ingest.pseudonymise import SCRUB_PATTERNS

    texts = ["请回电+86 139 1234 5678，身份证11010119900307123x", "邮箱：zhang.san@163.com。(021)6234 5678",
             "就诊号ENC13812345678，20260105复诊，¥1,380.00", "ID 110101 1990 0307 1234."]
    for text in texts:
        expected = text
        for pattern, replacement in SCRUB_PATTERNS:
            expected = re.sub(pattern, replacement, expected, flags=re.ASCII)
        assert scrub(conn, text) == expected
