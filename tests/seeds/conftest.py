"""The seeds' own code against the emulator over loopback: one uvicorn server per test process.

Each test gets its own API key (its own tenant); the server runs `manual` transitions and a test advances
the clock where the seed's author waited. Helpers: tests/seeds/support.py.
"""

from __future__ import annotations

import pytest

from tests.seeds.support import OPENAI_MAJOR, LoopbackServer, Seed


@pytest.fixture(scope="session")
def server():
    srv = LoopbackServer()
    yield srv
    srv.close()


@pytest.fixture
def seed(server, monkeypatch, tmp_path):
    s = Seed(server)
    monkeypatch.setenv("OPENAI_API_KEY", s.key)
    monkeypatch.setenv("OPENAI_BASE_URL", s.base_url)      # the current SDKs read it
    monkeypatch.setenv("OPENAI_API_BASE", s.base_url)      # openai 0.28 reads this one
    monkeypatch.chdir(tmp_path)                            # the seeds read and write files next to them
    if OPENAI_MAJOR == 0:                                  # 0.28 read both variables at import time
        import openai

        monkeypatch.setattr(openai, "api_base", s.base_url)
        monkeypatch.setattr(openai, "api_key", s.key)
    return s
