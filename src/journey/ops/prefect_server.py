"""A real Prefect API server for the length of a ``with`` block: ``prefect server start`` on a free
127.0.0.1 port, with its own PREFECT_HOME and SQLite database, telemetry and UI off.

For runs that must not pay Prefect's temporary ("ephemeral") API server start-up in every flow
process: the benchmark measures the nightly flow as the scheduled run under `journey serve` meets
it (a long-running server), and the `journey serve` integration test deploys against it. A hospital
runs its server under the host's service manager instead (docs/operations.md → "The nightly schedule").
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import tomllib
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from journey.errors import JourneyError
from journey.ops.children import dies_with_parent

LOG_TAIL_CHARS = 3000


class ProcessNotReady(JourneyError):
    """A child process exited, or did not become ready in time; the message holds the tail of its log."""

    hint = "Read the log tail above (port in use, database locked, too little memory?), then run again."


def api_configured() -> bool:
    """A Prefect server is configured for runs: PREFECT_API_URL in the environment or in the active
    profile of Prefect's profiles file (read without importing Prefect: that alone takes seconds)."""
    if os.environ.get("PREFECT_API_URL"):
        return True
    home = Path(os.environ.get("PREFECT_HOME") or "~/.prefect").expanduser()
    path = Path(os.environ.get("PREFECT_PROFILES_PATH") or home / "profiles.toml").expanduser()
    try:
        profiles = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        return False
    active = os.environ.get("PREFECT_PROFILE") or profiles.get("active") or "ephemeral"
    return bool(profiles.get("profiles", {}).get(active, {}).get("PREFECT_API_URL"))


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def stop_process_group(process: subprocess.Popen[bytes], sig: int = signal.SIGTERM, grace_seconds: float = 30) -> None:
    """Send ``sig`` to the process's group (it was started with ``start_new_session``), SIGKILL after the grace."""
    if process.poll() is not None:
        return
    os.killpg(process.pid, sig)
    try:
        process.wait(timeout=grace_seconds)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def wait_until(
    ready: Callable[[], bool], what: str, process: subprocess.Popen[bytes], log: Path, timeout_seconds: float
) -> None:
    """Poll ``ready`` until it answers True; ProcessNotReady if ``process`` exits or the time is up."""
    deadline = time.monotonic() + timeout_seconds
    while process.poll() is None:
        if ready():
            return
        if time.monotonic() > deadline:
            raise ProcessNotReady(f"{what} was not ready within {timeout_seconds:g} s; {log}:\n{_tail(log)}")
        time.sleep(0.5)
    raise ProcessNotReady(f"{what} exited (rc={process.returncode}); {log}:\n{_tail(log)}")


def _tail(log: Path) -> str:
    return log.read_text(encoding="utf-8", errors="replace")[-LOG_TAIL_CHARS:] if log.is_file() else "(no log)"


def _healthy(api_url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{api_url}/health", timeout=2) as response:
            return bool(response.status == 200)
    except OSError:
        return False


@contextmanager
def prefect_server(home: Path, *, timeout_seconds: float = 120) -> Iterator[str]:
    """Start a Prefect server with its home (database, ``server.log``) in ``home``; yield its API URL.

    The server runs in its own process group and is stopped on exit (SIGTERM, then SIGKILL after
    30 s); if this process is killed instead, the kernel kills the server (journey.ops.children).
    ProcessNotReady if it exits or `/api/health` does not answer within ``timeout_seconds``.
    """
    home.mkdir(parents=True, exist_ok=True)
    port = free_port()
    env = {
        **os.environ, "PREFECT_HOME": str(home),
        "PREFECT_API_DATABASE_CONNECTION_URL": f"sqlite+aiosqlite:///{home / 'prefect.db'}",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "DO_NOT_TRACK": "1", "PREFECT_SERVER_UI_ENABLED": "false",
    }
    env.pop("PREFECT_API_URL", None)
    log = home / "server.log"
    with log.open("wb") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port", str(port),
             "--no-ui"],
            env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True, preexec_fn=dies_with_parent(),
        )
    api_url = f"http://127.0.0.1:{port}/api"
    try:
        wait_until(lambda: _healthy(api_url), "prefect server", server, log, timeout_seconds)
        yield api_url
    finally:
        stop_process_group(server)
