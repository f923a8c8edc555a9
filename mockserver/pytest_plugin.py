"""pytest plugin (entry point `mockserver`): fixtures that run OpenAI SDK code offline against an emulator.

    def test_my_code(openai_emulator):          # openai.OpenAI() now talks to a fresh in-process emulator
        assert my_app.list_models()

    def test_direct(openai_emulator_client):    # an SDK client wired to that emulator
        openai_emulator_client.files.list()

This module loads in every pytest run of the environment, so it imports nothing heavy at module level:
the emulator, the SDK and respx are imported inside the fixtures.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

__all__ = ["openai_emulator", "openai_emulator_client", "DUMMY_KEY"]

DUMMY_KEY = "sk-test"


@pytest.fixture
def openai_emulator(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A fresh, isolated `Emulator` (jobs move `immediate`ly) serving every request the SDK sends to the
    default base URL (and to OPENAI_BASE_URL): no port, no network. OPENAI_API_KEY gets a dummy if unset."""
    from mockserver.intercept import intercept
    from mockserver.testing import Emulator

    if not os.environ.get("OPENAI_API_KEY"):
        monkeypatch.setenv("OPENAI_API_KEY", DUMMY_KEY)
    with Emulator() as emulator, intercept(emulator):
        yield emulator


@pytest.fixture
def openai_emulator_client(openai_emulator: Any) -> Any:
    """An `openai.OpenAI` client on the `openai_emulator`, using the same key (so the same tenant) as
    clients the code under test builds from OPENAI_API_KEY."""
    return openai_emulator.client(api_key=os.environ["OPENAI_API_KEY"])
