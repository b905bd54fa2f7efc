import hashlib
import hmac

import duckdb
import pytest

from journey.ingest.pseudonymise import install_macros


@pytest.fixture
def conn() -> duckdb.DuckDBPyConnection:
    connection = duckdb.connect()
    install_macros(connection, b"k3y")
    return connection


@pytest.mark.parametrize("value", ["p1", "中文患者", "0000123456", "x" * 200])
def test_sql_key_equals_python_hmac_sha256(conn: duckdb.DuckDBPyConnection, value: str) -> None:
    expected = hmac.new(b"k3y", value.encode(), hashlib.sha256).hexdigest()
    assert conn.execute("select journey_key(?)", [value]).fetchone() == (expected,)


def test_long_keys_are_hashed_first_like_rfc2104() -> None:
    connection = duckdb.connect()
    key = b"K" * 100
    install_macros(connection, key)
    expected = hmac.new(key, b"p1", hashlib.sha256).hexdigest()
    assert connection.execute("select journey_key('p1')").fetchone() == (expected,)


def test_key_depends_on_the_secret() -> None:
    one, two = duckdb.connect(), duckdb.connect()
    install_macros(one, b"a")
    install_macros(two, b"b")
    assert one.execute("select journey_key('p1')").fetchone() != two.execute("select journey_key('p1')").fetchone()


def test_empty_and_null_ids_have_no_key(conn: duckdb.DuckDBPyConnection) -> None:
    assert conn.execute("select journey_key(''), journey_key(null)").fetchone() == (None, None)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("call 13812345678 please", "call [phone] please"),
        ("电话：138 1234 5678。", "电话：[phone]。"),
        ("+86 13912345678", "[phone]"),
        ("ID 11010119900307123X ok", "ID [id] ok"),
        ("身份证110101199003071234", "身份证[id]"),
        ("mail li.si@example.com now", "mail [email] now"),
        ("office 010-12345678", "office [phone]"),
        ("US (555) 123-4567", "US [phone]"),
        ("waited 45 minutes, room 12", "waited 45 minutes, room 12"),
        ("visit on 2026-01-05 at 10:30", "visit on 2026-01-05 at 10:30"),
    ],
)
def test_scrub_removes_contact_details_and_keeps_ordinary_text(
    conn: duckdb.DuckDBPyConnection, text: str, expected: str
) -> None:
    assert conn.execute("select journey_scrub(?)", [text]).fetchone() == (expected,)
