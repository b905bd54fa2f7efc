"""Free-text scrubbing (``journey_scrub``, applied at load) on Chinese formats: mobiles, resident IDs,
landlines and e-mails written the ways patients write them (full-width and mixed-width digits
included), and numbers that must survive."""

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
        # full-width digits (a Chinese IME in full-width mode), mixed widths, other Unicode digits: found in
        # the folded text, which is what comes back then (digits and the forms the patterns read as ASCII)
        ("请回电１３８１２３４５６７８谢谢", "请回电[phone]谢谢"),
        ("手机：１３８ １２３４ ５６７８。", "手机：[phone]。"),
        ("电话＋８６－１３９－１２３４－５６７８", "电话[phone]"),
        ("手机138１２３４5678，或者１８６　８７６５　４３２１", "手机[phone]，或者[phone]"),
        ("身份证号码是１１０１０１１９９００３０７１２３Ｘ，请核实", "身份证号码是[id]，请核实"),
        ("证件号110101１９９００３０７1234挂号", "证件号[id]挂号"),
        ("办公室电话（０１０）１２３４５６７８（李）", "办公室电话[phone](李)"),
        ("邮箱：ｚｈａｎｇ．ｓａｎ＠１６３．ｃｏｍ。", "邮箱：[email]。"),
        ("号码١٣٨١٢٣٤٥٦٧٨", "号码[phone]"),
        ("号码𝟏𝟑𝟖𝟏𝟐𝟑𝟒𝟓𝟔𝟕𝟖", "号码[phone]"),
        ("１13812345678", "１[phone]"),
        # an id glued to a whole mobile number loses it (issue #21: letters no longer shield a number,
        # ``Tel18677776543``): removing too much, never too little
        ("就诊号ENC13812345678，住院号ZY00012345", "就诊号ENC[phone]，住院号ZY00012345"),
        ("就诊号ＥＮＣ１３８１２３４５６７８，住院号ZY00012345", "就诊号ENC[phone]，住院号ZY00012345"),
        # mobiles in Chinese numerals (幺 = 1 as spoken), grouped or not, digits mixed in
        ("我的电话是一三八一二三四五六七八，请回电", "我的电话是[phone]，请回电"),
        ("手机幺三九 幺二三四 五六七八", "手机[phone]"),
        ("电话一五〇-一二三四-五六七八谢谢", "电话[phone]谢谢"),
        ("打一八六12345678找我", "打[phone]找我"),
        ("号码一三八零零一三八零零零。", "号码[phone]。"),
        # resident IDs and landlines in Chinese numerals (〇 or 零 for 0, digits mixed in)
        ("身份证一一〇一〇一一九九〇〇三〇七一二三X，请核实", "身份证[id]，请核实"),
        ("身份证号一一〇一〇一 一九九〇〇三〇七 一二三四", "身份证号[id]"),
        ("证件一一〇一〇一-一九九〇-〇三〇七-一二三x挂号", "证件[id]挂号"),
        ("身份证一一〇一〇一19900307123四", "身份证[id]"),
        ("老身份证一一〇一〇一九〇〇三〇七一二三", "老身份证[id]"),
        ("办公室电话〇一〇-一二三四五六七八", "办公室电话[phone]"),
        ("座机（零二一）六二三四 五六七八转分机", "座机[phone]转分机"),
        ("总机零七五五八八八八六六六六", "总机[phone]"),
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
        "encounter E2026010500123 and order 20260105123456",
        "visit on 2026-01-05 at 10:30-11:45",
        "评分9/10，等候45分钟",
        "体温37.5度，血压120/80",
        "room 1208, bed 3",
        # the same in full width, or mixed: left exactly as written (no identifier, nothing folded)
        "就诊日期２０２６－０１－０５，２０２６０１０５复诊",
        "等了１３８分钟，排在第２５号（急诊）",
        "费用共计１２３４５．６７元，押金3000元（已退）",
        "就诊号ＥＮＣ-000123，住院号ZY00012345",
        "体温３７．５度，血压１２０／８０　室温２５度",
        "评分９/10，等候４５分钟",
        # Chinese numerals that are no phone number
        "我一直等了一个小时，三楼二号诊室",
        "一三五七九号床，共计一百三十八元",
        "编号一二三四五六七八九",
        "第一三八次门诊",
        "二〇二六年一月五日，三楼〇一二号诊室",
        "零零星星等了一二十分钟",
    ],
)
def test_ordinary_numbers_are_kept(conn: duckdb.DuckDBPyConnection, text: str) -> None:
    assert scrub(conn, text) == text


def test_null_stays_null(conn: duckdb.DuckDBPyConnection) -> None:
    assert conn.execute("select journey_scrub(null)").fetchone() == (None,)


def test_every_unicode_digit_is_folded() -> None:
    """Every character with a Unicode decimal value (full-width, Arabic-Indic, Devanagari, mathematical
    …) folds to its ASCII digit, and nothing the patterns never read is folded."""
    import unicodedata

    from journey.ingest.pseudonymise import fold_table

    table = fold_table()
    decimals = [chr(code) for code in range(0x80, 0x110000) if unicodedata.decimal(chr(code), None) is not None]
    assert len(decimals) > 600
    assert all(table[char] == str(unicodedata.decimal(char)) for char in decimals)
    assert table["１"] == "1" and table["Ｘ"] == "X" and table["＠"] == "@" and table["\u3000"] == " "
    assert not {"，", "。", "：", "—", "／"} & set(table)
