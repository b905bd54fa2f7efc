"""Child processes that end with the run that started them, however it ends (``kill -9`` included).

``preexec_fn=dies_with_parent()`` asks Linux (``prctl(PR_SET_PDEATHSIG, SIGKILL)``) to kill the
child when its parent dies: no dbt build or Prefect server keeps running, or holds the working copy,
after its run was killed. Elsewhere it does nothing.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
from collections.abc import Callable

PR_SET_PDEATHSIG = 1


def dies_with_parent() -> Callable[[], None] | None:
    """A ``preexec_fn`` for ``subprocess``: the child gets SIGKILL when this process dies (Linux);
    None elsewhere. (Linux ties it to the starting thread: start children from a thread that waits
    for them, as ``subprocess.run`` does.)"""
    if not sys.platform.startswith("linux"):
        return None
    parent = os.getpid()

    def arm() -> None:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != parent:  # the parent died before the signal was armed
            os._exit(1)

    return arm
