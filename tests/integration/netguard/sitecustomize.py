"""Loaded by every Python process of a guarded run (PYTHONPATH points here): refuse and record every
outbound connection or name lookup that is not loopback, and record whether telemetry was off when
Prefect, dbt or Great Expectations was first imported.

Records go to the JSON-lines file in JOURNEY_NETGUARD_LOG, one per event, with the process's argv.
"""

from __future__ import annotations

import ipaddress
import json
import os
import socket
import sys

_LOG = os.environ.get("JOURNEY_NETGUARD_LOG")
_TELEMETRY = ("DO_NOT_TRACK", "DBT_SEND_ANONYMOUS_USAGE_STATS", "GX_ANALYTICS_ENABLED",
              "PREFECT_SERVER_ANALYTICS_ENABLED")
_WATCHED = ("prefect", "dbt", "great_expectations")


def _record(event: str, **fields: object) -> None:
    if not _LOG:
        return
    payload = {"event": event, "pid": os.getpid(), "argv": sys.argv[:3], **fields}
    with open(_LOG, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(payload, default=str) + "\n")


def _is_loopback(host: object) -> bool:
    if host is None:
        return True
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    text = str(host).strip("[]").split("%")[0]
    if text in ("localhost", "localhost.localdomain", "ip6-localhost"):
        return True
    try:
        return ipaddress.ip_address(text).is_loopback
    except ValueError:
        return False


def _check(kind: str, address: object) -> None:
    if isinstance(address, (str, bytes)):  # AF_UNIX path
        return
    host = address[0] if isinstance(address, tuple) and address else address
    if not _is_loopback(host):
        _record("refused", kind=kind, address=address)
        raise ConnectionRefusedError(f"netguard: outbound {kind} to {address!r} refused (loopback only)")


_connect = socket.socket.connect
_connect_ex = socket.socket.connect_ex
_sendto = socket.socket.sendto
_getaddrinfo = socket.getaddrinfo


def _guarded_connect(self: socket.socket, address: object) -> None:
    if self.family in (socket.AF_INET, socket.AF_INET6):
        _check("connect", address)
    return _connect(self, address)


def _guarded_connect_ex(self: socket.socket, address: object) -> int:
    if self.family in (socket.AF_INET, socket.AF_INET6):
        _check("connect", address)
    return _connect_ex(self, address)


def _guarded_sendto(self: socket.socket, data: bytes, *args: object) -> int:
    address = args[-1]
    if self.family in (socket.AF_INET, socket.AF_INET6):
        _check("sendto", address)
    return _sendto(self, data, *args)  # type: ignore[arg-type]


def _guarded_getaddrinfo(host: object, *args: object, **kwargs: object) -> list:  # type: ignore[type-arg]
    _check("getaddrinfo", (host,))
    return _getaddrinfo(host, *args, **kwargs)  # type: ignore[arg-type]


socket.socket.connect = _guarded_connect  # type: ignore[method-assign]
socket.socket.connect_ex = _guarded_connect_ex  # type: ignore[method-assign]
socket.socket.sendto = _guarded_sendto  # type: ignore[method-assign,assignment]
socket.getaddrinfo = _guarded_getaddrinfo


class _ImportWatch:
    """On the first import of a watched library, record the telemetry environment at that moment."""

    seen: set[str] = set()

    def find_spec(self, name: str, path: object = None, target: object = None) -> None:
        top = name.split(".")[0]
        if top in _WATCHED and top not in self.seen:
            self.seen.add(top)
            _record("import", module=top, env={key: os.environ.get(key) for key in _TELEMETRY})
        return None


sys.meta_path.insert(0, _ImportWatch())
_record("start")
