"""SQL identifiers that come from files (suite names, table names): validated, then quoted.

Values reach SQL as bound parameters; identifiers cannot be bound, so any identifier that does not come
from journey's own constants must pass ``validated_identifier`` (plain ``[A-Za-z_][A-Za-z0-9_]*``,
optionally ``schema.table``) and be written with ``quote_identifier``.
"""

from __future__ import annotations

import re

from journey.errors import ConfigError

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,127}")


def validated_identifier(name: object, *, where: str, qualified: bool = False) -> str:
    """``name`` if it is a plain identifier (``schema.table`` too when ``qualified``); else ConfigError
    naming ``where`` (the file or setting it came from)."""
    text = name if isinstance(name, str) else ""
    parts = text.split(".") if qualified else [text]
    if not text or len(parts) > 2 or not all(_NAME.fullmatch(part) for part in parts):
        raise ConfigError(
            f"{where}: {name!r} is not a valid table or column name (letters, digits and _ only"
            f"{', optionally schema.table' if qualified else ''})."
        )
    return text


def quote_identifier(name: str) -> str:
    """A DuckDB identifier, double-quoted with embedded quotes doubled."""
    return '"' + name.replace('"', '""') + '"'
