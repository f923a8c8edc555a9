"""Helpers for tests/seeds: a loopback emulator, one test's view of it, and running transcribed seed code.

Each seed test gets its own API key (its own tenant) and drives the clock through the control plane where
the seed's author waited ("5分ほど待ちます"): the server runs `manual` transitions, so a job moves only when
a test advances it, exactly as far as the seed's next step needs.

The seed code itself is transcribed in each test module as text and executed as written; only the base URL
and the key differ, plus the placeholders the articles ask the reader to replace (`file-abc123`,
`<YOUR_JSON_FILE_HERE>`, …), each filled by name in the test.
"""

from __future__ import annotations

import json
import secrets
import socket
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

OPENAI_MAJOR = int(__import__("openai").__version__.split(".")[0])
needs_v0 = pytest.mark.skipif(OPENAI_MAJOR >= 1, reason="openai 0.28 code: runs in `nox -s sdk-0.28`")
needs_v1 = pytest.mark.skipif(OPENAI_MAJOR < 1, reason="needs openai>=1 (the current SDK)")


class LoopbackServer:
    """The emulator under uvicorn on 127.0.0.1:<free port>, in a thread of this process."""

    def __init__(self) -> None:
        import uvicorn

        from mockserver.app import create_app
        from mockserver.settings import Settings

        self.tmp = tempfile.mkdtemp(prefix="mockserver-seeds-")
        app = create_app(Settings(data_dir=Path(self.tmp), transitions="manual", durable=False))
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="error"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.01)
        self.origin = f"http://127.0.0.1:{self.port}"
        self.base_url = f"{self.origin}/v1"

    def control(self, path: str, payload: dict | None = None) -> Any:
        req = urllib.request.Request(f"{self.origin}/_mock/{path}", data=json.dumps(payload or {}).encode(),
                                     headers={"Content-Type": "application/json"}, method="POST")
        with urllib.request.urlopen(req, timeout=30) as r:
            return json.loads(r.read())

    def close(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)


class Seed:
    """One test's view: a fresh key (own tenant) and the waits the seeds' authors did, as clock advances."""

    def __init__(self, server: LoopbackServer) -> None:
        self.server = server
        self.base_url = server.base_url
        self.key = "sk-seed-" + secrets.token_hex(8)
        server.control("policy", {"transitions": "manual"})

    def wait(self, seconds: float = 300) -> None:
        """The author's "wait a few minutes": the virtual clock moves on."""
        self.server.control("clock/advance", {"seconds": seconds})

    def api(self, method: str, path: str, body: Any = None) -> Any:
        """A plain JSON call with this test's key (for checks the seed code does not make itself)."""
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(f"{self.base_url}{path}", data=data, method=method, headers={
            "Authorization": f"Bearer {self.key}", "Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as r:
            return json.loads(r.read())


def run_seed_code(code: str, ns: dict[str, Any] | None = None, **placeholders: str) -> dict[str, Any]:
    """Execute a transcribed snippet as a script would, placeholders filled by name. `ns` continues a
    notebook: the snippet sees (and adds to) the names earlier cells defined."""
    for placeholder, value in placeholders.items():
        assert placeholder in code, f"{placeholder!r} is not in the snippet"
        code = code.replace(placeholder, value)
    namespace: dict[str, Any] = {"__name__": "__seed__"} if ns is None else ns
    exec(compile(code, "<seed>", "exec"), namespace)  # the seed's own code, as written
    return namespace
