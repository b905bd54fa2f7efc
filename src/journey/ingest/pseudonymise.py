"""Pseudonymisation and free-text scrubbing, as DuckDB macros bound to one connection.

* ``journey_key(id)``: HMAC-SHA256(secret, id) as 64 hex characters, computed in SQL (the RFC 2104
  construction over DuckDB's sha256) so it runs vectorised over millions of rows. The macros are
  TEMP: they live only in this connection and the secret is never written to the warehouse.
* ``journey_scrub(text)``: replaces mobile/landline phone numbers (Chinese formats included, also
  in Chinese numerals), 18/15 digit resident ID numbers (also in Chinese numerals) and e-mail
  addresses in free text with ``[phone]``, ``[id]``, ``[email]``, however their digits are written
  (full-width ``１３８…``, other Unicode digits, mixed widths).
  The only copy of the rule: text re-scrubbed later (the worklist's excerpts) goes through it too
  (``install_scrub_macros`` installs it without the key).
"""

from __future__ import annotations

import functools
import hashlib
import unicodedata

import duckdb

_BLOCK = 64

# RE2 patterns (DuckDB regexp). RE2 has no look-around, so a number's edges are matched as groups and
# put back: group 1 is the character before (anything but an ASCII digit, so a number glued to letters
# — ``Tel18677776543``, ``ID44030519850612771X`` — is still found, while a longer digit run such as an
# order number is not cut into a phone), group 2 a letter right after (``\b`` covers every other
# ending). An alphanumeric id holding a whole mobile number (``ENC13812345678``) therefore loses that
# number: removing too much, never too little. Order matters: e-mails first, IDs before phones (an ID
# contains phone-like runs).
#: Between digit groups: spaces, a line break, or a dash, dot or slash with spaces around it
#: (``138 1234 5678``, ``138\n1234\n5678``, ``138 - 1234 - 5678``, ``186.7777.6543``, ``138/1234/5678``).
_SEP = r"(?:\s*[-./]\s*|\s+)?"
#: Inside a group: at most a line break (a number wrapped at any digit).
_BREAK = r"(?:[ \t]*\r?\n[ \t]*)?"
_BEFORE = "(^|[^0-9])"
_AFTER = r"(?:\b|([A-Za-z_]))"
#: A digit as patients also write it in a phone number: Chinese numerals (幺 and 两 are spoken forms
#: of 1 and 2), or an ASCII digit among them.
_CN_ONLY = "[〇零一二三四五六七八九幺两]"
_CN_DIGIT = "[〇零一二三四五六七八九幺两0-9]"


def _digits(count: int, digit: str = r"\d") -> str:
    """``count`` digits, a line break allowed between any two."""
    return digit + f"(?:{_BREAK}{digit}){{{count - 1}}}" if count > 1 else digit


def _bounded(core: str, label: str) -> tuple[str, str]:
    """A pattern whose match is neither preceded nor followed by an ASCII digit."""
    return f"{_BEFORE}(?:{core}){_AFTER}", rf"\1[{label}]\2"


def _cn_number(chinese_first: str, ascii_first: str, middle: str, label: str, last: str = "") -> tuple[str, str]:
    """A number in Chinese numerals, ASCII digits mixed in (``138一二三四五六七八``), opening with one of
    ``chinese_first`` or ``ascii_first``; ``last`` is what else may end it (``X``). An ASCII first or
    last digit needs the edges of an ASCII number; a Chinese numeral none (Chinese text has no word
    boundary: a longer run of numerals loses its first ones, removing too much, never too little)."""
    head = f"(?:{_BEFORE}{ascii_first}|{chinese_first})"
    tail = f"(?:{_CN_ONLY}{last}|[0-9]{_AFTER})"
    return f"{head}{middle}{tail}", rf"\1[{label}]\2"


_DAY = r"(?:0[1-9]|[12]\d|3[01])"
_MONTH = r"(?:0[1-9]|1[0-2])"
SCRUB_PATTERNS: tuple[tuple[str, str], ...] = (
    # e-mail
    (r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}", "[email]"),
    # 18-character resident ID (region, birth date, sequence, check digit or X), also as 6-8-4 or 6-4-4-4
    _bounded(rf"[1-9]{_BREAK}{_digits(5)}{_SEP}(?:18|19|20){_BREAK}{_digits(2)}{_SEP}{_MONTH}{_SEP}{_DAY}{_SEP}"
             rf"{_digits(3)}{_BREAK}[\dXx]", "id"),
    # any other 18-character or 15-digit (first-generation) ID-shaped number
    _bounded(r"\d{17}[\dXx]|\d{15}", "id"),
    # Resident ID in Chinese numerals (一一〇一〇一一九九〇〇三〇七一二三X, also grouped 6-8-4 / 6-4-4-4;
    # digits mixed in), then a first-generation one of 15.
    _cn_number("[一二三四五六七八九幺两]", "[1-9]",
               f"{_CN_DIGIT}{{5}}{_SEP}{_CN_DIGIT}{{4}}{_SEP}{_CN_DIGIT}{{4}}{_SEP}{_CN_DIGIT}{{3}}", "id", "|[Xx]"),
    _cn_number("[一二三四五六七八九幺两]", "[1-9]", f"{_CN_DIGIT}{{13}}", "id"),
    # Chinese mobile: 11 digits from 13x-19x, 3-4-4 with spaces, dashes, dots, slashes or line breaks,
    # optionally +86 / 0086 / 86
    _bounded(rf"(?:\+86{_SEP}|0086{_SEP}|86{_SEP})?1{_BREAK}[3-9]{_BREAK}\d{_SEP}{_digits(4)}{_SEP}{_digits(4)}",
             "phone"),
    # Chinese mobile in Chinese numerals (一三八一二三四五六七八, 幺三九 幺二三四 五六七八, 138一二三四五六七八):
    # 11 numerals opening with 1 and 3-9.
    _cn_number("[一幺]", "1", f"[三四五六七八九3-9]{_CN_DIGIT}{_SEP}{_CN_DIGIT}{{4}}{_SEP}{_CN_DIGIT}{{3}}", "phone"),
    # Chinese landline in Chinese numerals: area code 〇xx(x) / 零xx(x), maybe in brackets, 7-8 numerals
    (rf"[(（]?[〇零]{_CN_DIGIT}{{2,3}}[)）]?{_SEP}{_CN_DIGIT}{{3,4}}{_SEP}{_CN_DIGIT}{{4}}", "[phone]"),
    # Chinese landline: area code 0xx(x) (maybe in brackets, or +86 without its 0), 7-8 digits
    _bounded(rf"(?:\+86{_SEP}|\(0|0)\d{{2,3}}\)?{_SEP}\d{{3,4}}{_SEP}\d{{4}}", "phone"),
    # international / North American formats
    (r"\+?\b\d{1,3}[ .-]?\(?\d{3}\)?[ .-]\d{3}[ .-]\d{4}\b", "[phone]"),
    (r"\(\d{3}\)\s?\d{3}[ .-]\d{4}\b", "[phone]"),
)


#: Every character with a digit value lies in planes 0 and 1 (the test checks all of Unicode).
_LAST_DIGIT_PLANE_END = 0x20000
#: Besides Unicode digits, the characters the patterns read that patients also type in other forms:
#: full-width letters and ``+ - ( ) . @ _ %`` (U+FF01-U+FF5E is ASCII shifted by 0xFEE0), other spaces
#: and hyphens. (Not ``—`` / ``―``, the Chinese dash, nor the full-width punctuation the patterns
#: never read.)
_FULL_WIDTH_OFFSET = 0xFEE0
_SPACES = "\u00a0\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u202f\u205f\u3000"
_HYPHENS = "\u2010\u2011\u2012\u2013\u2212\ufe63"
#: Invisible characters the folded pass deletes (zero-width space / non-joiner / joiner, word joiner,
#: BOM, soft hyphen): typed or pasted between the digits of a number, they hide it from every pattern.
INVISIBLE = "\u00ad\u200b\u200c\u200d\u2060\ufeff"


@functools.cache
def fold_table() -> dict[str, str]:
    """One ASCII character for each non-ASCII one the scrub folds before its second pass: every
    character with a Unicode digit value (full-width ``１``, Arabic-Indic ``١``, mathematical ``𝟏``,
    superscript ``¹``, circled ``①`` …) becomes that digit, and the forms above their ASCII character
    (as NFKC would, one character for one, so nothing else in the text moves)."""
    table = {
        char: str(unicodedata.digit(char))
        for char in map(chr, range(0x80, _LAST_DIGIT_PLANE_END))
        if unicodedata.digit(char, None) is not None
    }
    for code in range(ord("!"), ord("~") + 1):
        ascii_char = chr(code)
        if ascii_char.isalnum() or ascii_char in "+-().@_%":
            table.setdefault(chr(code + _FULL_WIDTH_OFFSET), ascii_char)
    table.update(dict.fromkeys(_SPACES, " "))
    table.update(dict.fromkeys(_HYPHENS, "-"))
    return table


def _char_class(chars: list[str]) -> str:
    """A regular-expression class of ``chars`` (non-ASCII: nothing to escape), as ranges."""
    codes = sorted(ord(char) for char in chars)
    parts: list[str] = []
    start = previous = codes[0]
    for code in [*codes[1:], -1]:
        if code != previous + 1:
            parts.append(chr(start) if start == previous else f"{chr(start)}-{chr(previous)}")
            start = code
        previous = code
    return "[" + "".join(parts) + "]"


@functools.cache
def _fold_class() -> str:
    """Any character ``fold_table`` folds, or ``INVISIBLE`` that the fold deletes."""
    return _char_class([*fold_table(), *INVISIBLE])


#: Fewer digits than every pattern but the e-mail needs (a landline has 9 or more).
_MIN_DIGITS = 7


@functools.cache
def _second_pass_gates() -> tuple[str, str]:
    """Two regular expressions a text must both match to need the folded pass: it holds a character
    ``fold_table`` folds, and an ``@`` or ``_MIN_DIGITS`` digits of any form (most free text with
    full-width punctuation holds no number at all)."""
    digit = _char_class([char for char, ascii_char in fold_table().items() if ascii_char.isdigit()])[:-1] + "0-9]"
    not_digit = "[^" + digit[1:]
    return _fold_class(), f"[@＠]|{digit}(?:{not_digit}*{digit}){{{_MIN_DIGITS - 1}}}"


def _fold_sql(expr: str) -> str:
    """``expr`` with ``fold_table`` applied and ``INVISIBLE`` deleted: one regexp per digit value, one
    translate for the rest."""
    digits: dict[str, list[str]] = {}
    others: dict[str, str] = {}
    for char, ascii_char in fold_table().items():
        if ascii_char.isdigit():
            digits.setdefault(ascii_char, []).append(char)
        else:
            others[char] = ascii_char
    for digit, chars in sorted(digits.items()):
        expr = f"regexp_replace({expr}, {_sql_literal(_char_class(chars))}, '{digit}', 'g')"
    # translate deletes the characters of its second argument beyond the third's length: INVISIBLE
    return (f"translate({expr}, {_sql_literal(''.join(others) + INVISIBLE)}, "
            f"{_sql_literal(''.join(others.values()))})")


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
    """Create the TEMP macros ``journey_key`` and ``journey_scrub`` (with its helpers
    ``journey_scrub_ascii`` and ``journey_fold``) on ``conn``."""
    inner, outer = _pads(key)
    conn.execute(
        "create or replace temp macro journey_key(msg) as "
        f"case when msg is null or msg = '' then null else "
        f"sha256(unhex('{outer}') || unhex(sha256(unhex('{inner}') || encode(msg::varchar)))) end"
    )
    install_scrub_macros(conn)


def install_scrub_macros(conn: duckdb.DuckDBPyConnection) -> None:
    """Create the TEMP macro ``journey_scrub`` (the patterns over the text as written; then, for a text
    holding a character ``fold_table`` folds and a number, over the folded text, whose result is kept
    only when that second pass found more) and its helpers on ``conn`` (read-only connections too)."""
    expr = "txt"
    for pattern, replacement in SCRUB_PATTERNS:
        expr = f"regexp_replace({expr}, {_sql_literal(pattern)}, {_sql_literal(replacement)}, 'g')"
    conn.execute(f"create or replace temp macro journey_scrub_ascii(txt) as {expr}")
    conn.execute(f"create or replace temp macro journey_fold(txt) as {_fold_sql('txt')}")
    # The second pass only for a text that passes both gates (rare: the first pass is the whole cost
    # of every other text, and its result is what they keep, byte for byte).
    folded = "journey_fold(journey_scrub_ascii(txt))"
    foldable, numeric = (_sql_literal(gate) for gate in _second_pass_gates())
    conn.execute(
        "create or replace temp macro journey_scrub(txt) as "
        f"case when regexp_matches(txt, {foldable}) and regexp_matches(txt, {numeric}) then "
        f"(case when journey_scrub_ascii({folded}) = {folded} then journey_scrub_ascii(txt) "
        f"else journey_scrub_ascii({folded}) end) "
        "else journey_scrub_ascii(txt) end"
    )


#: A JSON string holding a conditional reference to a person (``Patient?identifier=sys|val``, also
#: absolute, any search parameters); group 1 is the type, group 2 the query.
CONDITIONAL_PERSON_REF = r'"(?:[^"\\]*/)?(Patient|RelatedPerson|Person)\?([^"\\]*)"'
_IDENTIFIER_PARAM = r"(?:^|&)identifier=([^&#]*)"


def identifier_token_sql(token: str) -> str:
    """The FHIR token ``system|value`` of a search value (URL-decoded; a bare value = ``|value``)."""
    decoded = f"url_decode({token})"
    return f"(case when contains({decoded}, '|') then {decoded} else '|' || {decoded} end)"


def conditional_person_refs_sql(expr: str) -> str:
    """``expr`` (JSON text) with every conditional reference to a Patient, RelatedPerson or Person
    rewritten to ``<Type>?identifier=<journey_key(system|value)>``: the identifier (e.g. a resident
    ID) never reaches raw in clear, and any other search parameter (a name, a birth date) is
    dropped. The key equals the one in the Patient's ``_journey.identifierKeys``."""
    pattern = _sql_literal(CONDITIONAL_PERSON_REF)
    value = f"regexp_extract(regexp_extract(ref, {pattern}, 2), {_sql_literal(_IDENTIFIER_PARAM)}, 1)"
    keyed = (f"'\"' || regexp_extract(ref, {pattern}, 1) || '?identifier=' || "
             f"coalesce(journey_key(nullif({identifier_token_sql(value)}, '|')), '') || '\"'")
    refs = f"list_distinct(regexp_extract_all({expr}, {pattern}, 0))"
    return (f"(case when contains({expr}, 'Patient?') or contains({expr}, 'Person?') "
            f"then list_reduce({refs}, (acc, ref) -> replace(acc, ref, {keyed}), {expr}) else {expr} end)")


def identifier_keys_sql(expr: str) -> str:
    """A JSON array of the keyed tokens of a resource's ``identifier[]``: ``journey_key(system|value)``
    and ``journey_key(|value)`` (a reference without a system matches any), never the values."""
    each = "json_extract_string(ident, '$.value')"
    system = "coalesce(json_extract_string(ident, '$.system'), '')"
    keys = (f"list_distinct(flatten(list_transform(coalesce(json_extract({expr}, '$.identifier[*]'), []), "
            f"ident -> case when nullif(trim({each}), '') is null then [] else "
            f"[journey_key({system} || '|' || trim({each})), journey_key('|' || trim({each}))] end)))")
    return f"to_json({keys})"
