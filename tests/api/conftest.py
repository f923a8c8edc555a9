"""API tests run through both front doors (tests/conftest.py `door`): the in-process transport and uvicorn
over loopback."""

from __future__ import annotations

import secrets
from typing import Any

import openai
import orjson
import pytest

from mockserver.testing import ControlPlane


class Api(ControlPlane):
    """One test's view of an emulator: its own API key (so its own tenant) and helpers."""

    def __init__(self, emu: Any, door: str) -> None:
        self.emu, self.door = emu, door
        self.key = "sk-test-" + secrets.token_hex(8)
        self.client = self.client_for(self.key)
        self.services = emu.services

    def client_for(self, key: str, **kwargs: Any) -> openai.OpenAI:
        kwargs.setdefault("max_retries", 0)
        return self.emu.client(api_key=key, **kwargs)

    def request(self, method: str, path: str, *, api_key: str | None = "default", **kw: Any):
        return self.emu.request(method, path, api_key=self.key if api_key == "default" else api_key, **kw)

    def control(self, path: str, payload: dict | None = None) -> Any:
        status, _, body = self.request("POST", f"/_mock/{path}", json=payload or {})
        assert status == 200, body
        return orjson.loads(body)


@pytest.fixture(params=["inprocess", "http"])
def api(request, door) -> Api:
    emu = door(request.param)
    a = Api(emu, request.param)
    a.policy("immediate", 15.0)
    return a


class Wall:
    """A wall clock the test moves (no sleeping)."""

    def __init__(self) -> None:
        self.t = 1_800_000_000.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def paced():
    """An emulator under `realtime` at time scale 2 on a wall clock the test moves: (emulator, wall)."""
    from mockserver.testing import Emulator

    wall = Wall()
    with Emulator(transitions="realtime", time_scale=2.0, wall=wall) as emu:   # simulated seconds ÷ 2
        yield emu, wall
