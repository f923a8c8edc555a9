"""tests.watchdog: a server the suite started dies with the test run, and only then."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys

import pytest

from tests.reliability._server import group_pids, wait_until
from tests.watchdog import watch

pytestmark = pytest.mark.skipif(not hasattr(os, "pidfd_open"), reason="pidfd_open is Linux-only")

_SLEEPER = [sys.executable, "-c", "import time; time.sleep(120)"]
_GROUP = [sys.executable, "-c",   # a leader and one child in its group, like uvicorn and a worker
          "import subprocess, sys, time; subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(120)']);"
          " time.sleep(120)"]


def test_a_killed_test_run_takes_the_server_group_with_it() -> None:
    parent = subprocess.Popen(_SLEEPER)                          # stands in for pytest
    server = subprocess.Popen(_GROUP, start_new_session=True)
    try:
        assert wait_until(lambda: len(group_pids(server.pid)) == 2, 30), "the server's child did not start"
        dog = watch(server.pid, parent=parent.pid)
        parent.kill()
        parent.wait()
        assert wait_until(lambda: server.poll() is not None and not group_pids(server.pid), 30), \
            "the server group outlived the killed test run"          # 30 s: a hang guard, not a timing check
        assert server.returncode == -signal.SIGKILL
        assert dog.wait(30) == 0
    finally:
        parent.kill()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGKILL)
        parent.wait()
        server.wait()


def test_a_server_stopped_normally_leaves_the_watchdog_nothing_to_do() -> None:
    server = subprocess.Popen(_SLEEPER, start_new_session=True)
    dog = watch(server.pid)
    server.terminate()
    assert server.wait(30) == -signal.SIGTERM
    assert dog.wait(30) == 0                                    # it exits with the server; this process lives
