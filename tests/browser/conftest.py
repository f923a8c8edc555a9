"""What the browser tests share: Debian's Chromium driven through Playwright's `executable_path` (Playwright
never downloads a browser here), the served emulator they watch, and a page fixture.

A machine without Chromium or the `playwright` package skips these tests with the reason (each module marks
itself with `needs_browser`); nothing here raises at import, so one module's skip cannot leave another
importing a half-initialised module.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mockserver.testing import ServedEmulator

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium" if Path("/usr/bin/chromium").is_file() else shutil.which("chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
KEY = "sk-dash-test"
try:
    from playwright.sync_api import expect, sync_playwright
except ImportError:  # pragma: no cover - depends on the machine
    expect = sync_playwright = None

if CHROMIUM is None:
    MISSING = "no Chromium found (/usr/bin/chromium or `chromium` on PATH); apt-get install chromium"
elif sync_playwright is None:
    MISSING = "the Python `playwright` package is not installed (pip install playwright; no browser download is needed)"
else:
    MISSING = ""
needs_browser = pytest.mark.skipif(bool(MISSING), reason=MISSING)


class Server(ServedEmulator):
    """The emulator over loopback HTTP, training in real time 60× faster than the default pace."""

    def __init__(self) -> None:
        super().__init__(transitions="realtime", time_scale=60.0)

    def client(self, api_key: str = "sk-test", **kwargs: Any) -> Any:
        return super().client(api_key=api_key, max_retries=0, **kwargs)


@pytest.fixture
def server() -> Iterator[Server]:
    s = Server()
    yield s
    s.close()


@pytest.fixture
def page(tmp_path: Path):
    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(str(tmp_path / "profile"), executable_path=CHROMIUM,
                                                       headless=True, args=CHROMIUM_ARGS)
        try:
            yield context.pages[0] if context.pages else context.new_page()
        finally:
            context.close()
