"""Pseudonymisation and free-text scrubbing, as DuckDB macros bound to one connection.

* ``journey_key(id)``: HMAC-SHA256(secret, id) as 64 hex characters, computed in SQL (the RFC 2104
  construction over DuckDB's sha256) so it runs vectorised over millions of rows. The macros are
  TEMP: they live only in this connection and the secret is never written to the warehouse.
* ``journey_scrub(text)``: replaces mobile/landline phone numbers (Chinese formats included), 18/15
  digit resident ID numbers and e-mail addresses in free text with ``[phone]``, ``[id]``, ``[email]``.
"""

from __future__ import annotations

import hashlib

import duckdb

_BLOCK = 64

# RE2 patterns (DuckDB regexp; ``\b`` is an ASCII word boundary, so a number right after Chinese text
# still starts at one, while an alphanumeric id such as ENC13812345678 is left alone).
# Order matters: e-mails first, IDs before phones (an ID contains phone-like runs).
_SEP = "[ -]?"
SCRUB_PATTERNS: tuple[tuple[str, str], ...] = (
    # e-mail
    (r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}", "[email]"),
    # 18-character resident ID (region, birth date, sequence, check digit or X), also as 6-8-4 or 6-4-4-4
    (rf"\b[1-9]\d{{5}}{_SEP}(?:18|19|20)\d{{2}}{_SEP}(?:0[1-9]|1[0-2]){_SEP}(?:0[1-9]|[12]\d|3[01]){_SEP}"
     rf"\d{{3}}[\dXx]\b", "[id]"),
    # any other 18-character or 15-digit (first-generation) ID-shaped number
    (r"\b\d{17}[\dXx]\b|\b\d{15}\b", "[id]"),
    # Chinese mobile: 11 digits from 13x-19x, 3-4-4 with spaces or dashes, optionally +86 / 0086 / 86
    (rf"(?:\+86{_SEP}|\b0086{_SEP}|\b86{_SEP}|\b)1[3-9]\d{_SEP}\d{{4}}{_SEP}\d{{4}}\b", "[phone]"),
    # Chinese landline: area code 0xx(x) (maybe in brackets, or +86 without its 0), 7-8 digits
    (rf"(?:\+86{_SEP}|\(0|\b0)\d{{2,3}}\)?{_SEP}\d{{3,4}}{_SEP}\d{{4}}\b", "[phone]"),
    # international / North American formats
    (r"\+?\b\d{1,3}[ .-]?\(?\d{3}\)?[ .-]\d{3}[ .-]\d{4}\b", "[phone]"),
    (r"\(\d{3}\)\s?\d{3}[ .-]\d{4}\b", "[phone]"),
)


def _pads(key: bytes) -> tuple[str, str]:
    if len(key) > _BLOCK:
        key = hashlib.sha256(key).digest()
    key = key.ljust(_BLOCK, b"\0")
    inner = bytes(byte ^ 0x36 for byte in key)
    outer = bytes(byte ^ 0x5C for byte in key)
    return inner.hex(), outer.hex()


def _sql_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def install_macros(conn: duckdb.DuckDBPyConnection, key: bytes) -> None:
    """Create the TEMP macros ``journey_key`` and ``journey_scrub`` on ``conn``."""
    inner, outer = _pads(key)
    conn.execute(
        "create or replace temp macro journey_key(msg) as "
        f"case when msg is null or msg = '' then null else "
        f"sha256(unhex('{outer}') || unhex(sha256(unhex('{inner}') || encode(msg::varchar)))) end"
    )
    expr = "txt"
    for pattern, replacement in SCRUB_PATTERNS:
        expr = f"regexp_replace({expr}, {_sql_literal(pattern)}, {_sql_literal(replacement)}, 'g')"
    conn.execute(f"create or replace temp macro journey_scrub(txt) as {expr}")
