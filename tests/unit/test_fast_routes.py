"""The hot routes served outside FastAPI's machinery (deps.fast_route) stay documented and refuse what they
cannot fill: every fast route has its FastAPI twin (same path and method, in /openapi.json), and a handler
parameter fast_route cannot fill is an error at start-up, never a silently missing argument."""

from __future__ import annotations

from typing import Annotated

import pytest
from fastapi import Depends
from starlette.routing import Route

from mockserver.deps import ServicesDep, fast_route
from mockserver.testing import Emulator


def test_every_fast_route_has_its_documented_fastapi_twin() -> None:
    with Emulator() as emu:
        routes = emu.app.router.routes
        fast = [r for r in routes if type(r) is Route and r.path.startswith("/v1/")]
        spec = emu.app.openapi()["paths"]
    assert {r.path for r in fast} >= {"/v1/files", "/v1/fine_tuning/jobs", "/v1/fine_tuning/jobs/{fine_tuning_job_id}"}
    for route in fast:
        for method in route.methods:
            assert method.lower() in spec[route.path], (method, route.path)


def test_a_parameter_fast_route_cannot_fill_is_refused() -> None:
    async def handler(svc: ServicesDep, n: Annotated[int, Depends(lambda: 1)]) -> None:  # pragma: no cover
        return None

    with pytest.raises(TypeError, match="'n'"):
        fast_route("/x", handler, ["GET"])


@pytest.mark.parametrize("hot", [True, False], ids=["hot-path", "stack"])
def test_a_write_holds_no_pooled_connection_while_its_body_arrives(hot: bool) -> None:
    """An upload whose body is still streaming holds no database connection: the pool is
    shared by every request, so N slow uploads holding one each would make the (N+1)th request wait on the
    event loop for a connection none of them can give back."""
    import asyncio
    import json as _json

    with Emulator() as emu:
        app, pool = emu.app, emu.services.db.engine.pool
        if not hot:
            app.hot = None   # the same handlers through the middleware stack and FastAPI's dependencies
        boundary = b"b0undary"
        line = _json.dumps({"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}]})
        head = (b"--" + boundary + b'\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nfine-tune\r\n--' +
                boundary + b'\r\nContent-Disposition: form-data; name="file"; filename="t.jsonl"\r\n\r\n')
        rest = (line + "\n").encode() * 10 + b"\r\n--" + boundary + b"--\r\n"

        async def scenario() -> tuple[int, int, bytes]:
            gate, waiting = asyncio.Event(), asyncio.Event()
            parts = [head, rest]
            status, chunks = 0, []

            async def receive() -> dict:
                body = parts.pop(0)
                if not parts:
                    waiting.set()
                    await gate.wait()
                return {"type": "http.request", "body": body, "more_body": bool(parts)}

            async def send(message: dict) -> None:
                nonlocal status
                if message["type"] == "http.response.start":
                    status = message["status"]
                else:
                    chunks.append(message.get("body", b""))

            scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
                     "scheme": "http", "path": "/v1/files", "raw_path": b"/v1/files", "query_string": b"",
                     "root_path": "", "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 80), "state": {},
                     "headers": [(b"host", b"127.0.0.1"), (b"authorization", b"Bearer sk-test-emulator"),
                                 (b"content-type", b"multipart/form-data; boundary=" + boundary),
                                 (b"content-length", str(len(head) + len(rest)).encode())]}
            task = asyncio.ensure_future(app(scope, receive, send))
            await waiting.wait()
            held = pool.checkedout()
            gate.set()
            await task
            return held, status, b"".join(chunks)

        held, status, body = asyncio.run_coroutine_threadsafe(scenario(), emu.bridge.loop).result(30)
        assert status == 200, body
        assert held == 0
