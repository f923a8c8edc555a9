"""Reliability tests: long versions only on request; every server started is ended when the session ends.

The `slow` (long) versions run when the marker expression names them (`-m slow`, `-m "slow or not slow"`,
as `make test-long` does) or with MOCKSERVER_RELIABILITY_LONG=1; the default run skips them.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.reliability._server import FIGURES, stop_all


@pytest.fixture(scope="session", autouse=True)
def _end_servers():
    yield
    stop_all()


def pytest_collection_modifyitems(config, items) -> None:
    wanted = "slow" in (config.option.markexpr or "") or os.environ.get("MOCKSERVER_RELIABILITY_LONG") == "1"
    if wanted:
        return
    here = Path(__file__).parent
    skip = pytest.mark.skip(reason="long reliability run: select it with -m slow (or MOCKSERVER_RELIABILITY_LONG=1)")
    for item in items:
        if "slow" in item.keywords and here in Path(item.path).parents:
            item.add_marker(skip)


def pytest_terminal_summary(terminalreporter) -> None:
    if FIGURES.lines:
        terminalreporter.write_sep("-", "reliability figures")
        for line in FIGURES.lines:
            terminalreporter.write_line(line)
