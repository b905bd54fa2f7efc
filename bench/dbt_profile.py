"""Where dbt's time goes, from a data dir's dbt log: per invocation (command, total seconds, full or
partial parse, seconds until the first node starts) and the slowest nodes."""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import datetime
from pathlib import Path
from typing import Any

_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_TIME = re.compile(r"^(\d{2}:\d{2}:\d{2}\.\d+) ")
_START = re.compile(r"invocation_command': '(dbt [a-z]+(?: [a-z]+)?)")
_PARSE = re.compile(r"(Unable to do partial parsing[^.]*|Partial parsing enabled[^.]*|Starting full parse)")
_NODE = re.compile(r"\d+ of \d+ (OK created sql \w+ model|PASS|WARN|ERROR|FAIL|OK loaded seed file)\s*(\S+)?.*?"
                   r"\[.*? in (\d+\.\d+)s\]")
_DONE = re.compile(r"Command `(dbt [a-z ]+)` (succeeded|failed) at .* after (\d+\.\d+) seconds")


def _clock(line: str) -> datetime | None:
    match = _TIME.match(line)
    return datetime.strptime(match.group(1), "%H:%M:%S.%f") if match else None


def profile(log: Path, top: int = 12, skip_bytes: int = 0) -> dict[str, Any]:
    """Invocations and the ``top`` slowest nodes of the dbt log after ``skip_bytes`` (empty if none)."""
    if not log.is_file():
        return {}
    with log.open("rb") as handle:
        handle.seek(skip_bytes)
        text = handle.read().decode("utf-8", errors="replace")
    invocations: list[dict[str, Any]] = []
    nodes: dict[str, float] = defaultdict(float)
    current: dict[str, Any] = {}
    for raw in text.splitlines():
        line = _ANSI.sub("", raw)
        if start := _START.search(line):
            current = {"command": start.group(1), "started": _clock(line), "parse": None, "node_s": 0.0}
            invocations.append(current)
        elif (parse := _PARSE.search(line)) and current and current["parse"] is None:
            current["parse"] = parse.group(1)
        elif (node := _NODE.search(line)) and current:
            seconds = float(node.group(3))
            current["node_s"] += seconds
            current.setdefault("first_node_at", _clock(line))
            nodes[f"{node.group(1).split()[0].lower()} {node.group(2) or ''}".strip()] += seconds
        elif (done := _DONE.search(line)) and current:
            current["total_s"] = float(done.group(3))
            current["status"] = done.group(2)
    summary = []
    for item in invocations:
        first = item.pop("first_node_at", None)
        started = item.pop("started")
        if first and started:
            item["startup_and_parse_s"] = round((first - started).total_seconds(), 2)
        item["node_s"] = round(item["node_s"], 2)
        summary.append(item)
    slowest = sorted(nodes.items(), key=lambda kv: kv[1], reverse=True)[:top]
    return {"invocations": summary, "slowest_nodes": [{"node": n, "seconds": round(s, 2)} for n, s in slowest]}
