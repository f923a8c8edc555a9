"""API tests run through both front doors: the in-process transport and uvicorn over loopback."""

from __future__ import annotations

import secrets
import socket
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import openai
import orjson
import pytest

from mockserver.app import create_app
from mockserver.settings import Settings
from mockserver.testing import ControlPlane, Emulator


class HttpEmulator:
    """The same app served by uvicorn on 127.0.0.1 in a thread; clients talk real HTTP."""

    def __init__(self) -> None:
        import uvicorn

        self.tmp = tempfile.mkdtemp(prefix="mockserver-http-")
        settings = Settings(data_dir=Path(self.tmp), transitions="immediate")
        self.app = create_app(settings)
        self.services = self.app.state.services
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        sock.close()
        self.server = uvicorn.Server(uvicorn.Config(self.app, host="127.0.0.1", port=self.port, log_level="error",
                                                    lifespan="on"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.time() + 10
        while not self.server.started:
            if time.time() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.01)
        self.base_url = f"http://127.0.0.1:{self.port}/v1"

    def client(self, api_key: str, **kwargs: Any) -> openai.OpenAI:
        return openai.OpenAI(api_key=api_key, base_url=self.base_url, **kwargs)

    def request(self, method: str, path: str, *, api_key: str | None, json: Any = None, body: bytes = b"",
                headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
        import httpx2

        h = dict(headers or {})
        if api_key is not None:
            h.setdefault("Authorization", f"Bearer {api_key}")
        if json is not None:
            body = orjson.dumps(json)
            h.setdefault("Content-Type", "application/json")
        r = httpx2.request(method, f"http://127.0.0.1:{self.port}{path}", content=body, headers=h, timeout=30)
        return r.status_code, dict(r.headers), r.content

    def close(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)


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


@pytest.fixture(scope="session")
def _inprocess():
    emu = Emulator(transitions="immediate")
    yield emu
    emu.close()


@pytest.fixture(scope="session")
def _http():
    emu = HttpEmulator()
    yield emu
    emu.close()


@pytest.fixture(params=["inprocess", "http"])
def api(request) -> Api:
    emu = request.getfixturevalue(f"_{request.param}")
    a = Api(emu, request.param)
    a.policy("immediate", 15.0)
    return a
