"""Servers started by tests die with the test run, however it ends.

A server the suite starts runs in its own process group (so a kill reaches its workers too), which also
means nothing ends it if pytest itself is killed (SIGKILL, an OOM kill, a CI timeout): it would keep its
port and its data dir. `watch(group)` starts a small sidecar that waits, without polling, on two pidfds:
the test process's and the group leader's. If the test process goes first, the sidecar SIGKILLs the
whole group; if the server goes first (the normal case: the test stopped it), the sidecar just exits.

    proc = subprocess.Popen([...], start_new_session=True)
    watchdog.watch(proc.pid)

Linux only (pidfd_open, Python ≥ 3.9); elsewhere `watch` does nothing and the atexit/fixture clean-up
remains the only net.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import subprocess
import sys

__all__ = ["watch"]


def watch(group: int, *, parent: int | None = None) -> subprocess.Popen | None:
    """Kill process group `group` when process `parent` (default: this one) exits; None where unsupported."""
    if not hasattr(os, "pidfd_open"):
        return None
    return subprocess.Popen([sys.executable, "-S", __file__, str(parent or os.getpid()), str(group)],
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)   # its own group: killing the server's leaves it to exit


def _run(parent: int, group: int) -> int:
    try:
        leader_fd = os.pidfd_open(group)
    except ProcessLookupError:           # the server is already gone
        return 0
    try:
        parent_fd = os.pidfd_open(parent)
    except ProcessLookupError:           # the test run is already gone
        parent_fd = -1
    if parent_fd >= 0:
        ready, _, _ = select.select([parent_fd, leader_fd], [], [])
        if parent_fd not in ready:       # the server ended first: nothing to do
            return 0
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(group, signal.SIGKILL)
    return 0


if __name__ == "__main__":
    sys.exit(_run(int(sys.argv[1]), int(sys.argv[2])))
