"""The waiting and stopping around a child server (the real Prefect server is exercised by
tests/integration/test_ops_deploy.py): a child that exits or never gets ready fails with the tail of
its log, and the child's whole process group is stopped."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from journey.ops.prefect_server import ProcessNotReady, stop_process_group, wait_until


def _child(code: str, log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen([sys.executable, "-c", code], stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)


def test_a_child_that_exits_fails_with_its_return_code_and_log_tail(tmp_path: Path) -> None:
    log = tmp_path / "child.log"
    child = _child("print('x' * 5000 + 'address already in use', flush=True); raise SystemExit(3)", log)
    with pytest.raises(ProcessNotReady, match="child exited \\(rc=3\\)") as raised:
        wait_until(lambda: False, "child", child, log, timeout_seconds=60)
    message = str(raised.value)
    assert message.endswith("address already in use\n") and "x" * 3001 not in message


def _gone(pid: int) -> bool:
    """The process has ended (no longer in /proc, or a zombie waiting for init to reap it)."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            if Path(f"/proc/{pid}/stat").read_text(encoding="utf-8").split()[2] == "Z":
                return True
        except FileNotFoundError:
            return True
        time.sleep(0.05)
    return False


def test_a_child_never_ready_times_out_and_its_whole_process_group_is_killed(tmp_path: Path) -> None:
    log = tmp_path / "child.log"
    # The child ignores SIGTERM and has a grandchild in its group: only the SIGKILL of the group ends both.
    child = _child("import signal, subprocess, sys, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
                   "grandchild = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']); "
                   "print(grandchild.pid, flush=True); time.sleep(60)", log)
    wait_until(lambda: log.read_text(encoding="utf-8").strip() != "", "child", child, log, timeout_seconds=60)
    grandchild = int(log.read_text(encoding="utf-8"))
    polls: list[int] = []
    with pytest.raises(ProcessNotReady, match="child was not ready within 0.3 s"):
        wait_until(lambda: bool(polls.append(1)), "child", child, log, timeout_seconds=0.3)
    assert len(polls) >= 1 and child.poll() is None
    stop_process_group(child, grace_seconds=0.5)
    assert child.returncode == -signal.SIGKILL
    assert _gone(grandchild)
