"""Structured logging for every entry point: one line per event, key=value or JSON, to stderr and to
``$JOURNEY_DATA_DIR/logs/journey.log``. Library code only uses ``logging.getLogger(__name__)``.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

from journey.config import Settings

_STANDARD = set(vars(logging.makeLogRecord({})).keys()) | {"message", "asctime"}


class _Formatter(logging.Formatter):
    def __init__(self, style_json: bool) -> None:
        super().__init__()
        self.style_json = style_json

    def format(self, record: logging.LogRecord) -> str:
        fields = {key: value for key, value in vars(record).items() if key not in _STANDARD}
        stamp = datetime.fromtimestamp(record.created, UTC).isoformat(timespec="seconds")
        if self.style_json:
            payload = {"ts": stamp, "level": record.levelname, "logger": record.name, "msg": record.getMessage()}
            payload.update(fields)
            return json.dumps(payload, default=str, ensure_ascii=False)
        extras = " ".join(f"{key}={value}" for key, value in fields.items())
        line = f"{stamp} {record.levelname:<7} {record.name}: {record.getMessage()}"
        return line + (f" | {extras}" if extras else "")


def configure_logging(settings: Settings, *, verbose: bool = False) -> None:
    root = logging.getLogger("journey")
    root.handlers.clear()
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    root.propagate = False
    console = logging.StreamHandler()
    console.setFormatter(_Formatter(settings.log_format == "json"))
    console.setLevel(logging.INFO if verbose else logging.WARNING)
    root.addHandler(console)
    settings.log_dir.mkdir(parents=True, exist_ok=True)
    file = logging.FileHandler(settings.log_dir / "journey.log", encoding="utf-8")
    file.setFormatter(_Formatter(True))
    root.addHandler(file)
