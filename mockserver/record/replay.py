"""`--replay DIR`: answer requests from recorded exchanges.

A request matches an exchange on method, path, query and the body's fields (contracts.cassette.match_key);
failing that, on the same with every id replaced by `{id}`, so a workflow whose ids differ still finds
its exchanges. Exchanges with one key are served in recorded order — a job's retrieves replay its
statuses in sequence — and the last one repeats once they run out. Anything else goes to the emulator
(`--replay-fallback emulate`) or gets a 404 in the API's error shape.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable
from pathlib import Path

import anyio.to_thread
import orjson
from starlette.types import Message, Receive, Scope, Send

from contracts import errors
from contracts.cassette import HOP_BY_HOP, Exchange, Redactor, body_bytes, load, match_key
from mockserver.record.spool import Spool, stored_body

__all__ = ["Replayer"]

log = logging.getLogger("mockserver.record")

_OWN = frozenset({"date", "server", "content-length"})


class _Queue:
    def __init__(self) -> None:
        self.items: list[Exchange] = []
        self.next = 0

    def take(self) -> Exchange:
        ex = self.items[min(self.next, len(self.items) - 1)]
        self.next += 1
        return ex


class Replayer:
    def __init__(self, directory: Path, *, fallback: str = "none") -> None:
        self.dir = Path(directory)
        self.fallback = fallback
        exchanges = [ex for ex in load(self.dir) if ex.complete]
        self.exact: dict[str, _Queue] = defaultdict(_Queue)
        self.templated: dict[str, _Queue] = defaultdict(_Queue)
        for ex in exchanges:
            self.exact[match_key(ex.method, ex.path, ex.query, ex.request_body)].items.append(ex)
            self.templated[match_key(ex.method, ex.path, ex.query, ex.request_body, templated=True)].items.append(ex)
        log.info("replaying %d exchanges from %s", len(exchanges), self.dir)

    def find(self, method: str, path: str, query: str, body: dict | None) -> Exchange | None:
        q = self.exact.get(match_key(method, path, query, body))
        if q is None:
            q = self.templated.get(match_key(method, path, query, body, templated=True))
        return None if q is None else q.take()

    async def __call__(self, scope: Scope, receive: Receive, send: Send,
                       emulate: Callable[[Scope, Receive, Send], Awaitable[None]]) -> None:
        spool = Spool(self.dir / ".spool")
        try:
            more = True
            while more:
                message = await receive()
                if message["type"] == "http.disconnect":
                    return
                if message.get("body"):
                    await spool.write(message["body"])
                more = message.get("more_body", False)
            headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
            body = await anyio.to_thread.run_sync(lambda: stored_body(
                spool, headers.get("content-type", ""), blobs=self.dir / "blobs", redactor=Redactor(),
                store=False))
            query = scope.get("query_string", b"").decode("latin-1")
            ex = self.find(scope["method"], scope["path"], query, body)
            if ex is not None:
                scope.setdefault("state", {})["verbatim"] = True   # the recorded headers, not ours
                await self._answer(ex, send)
            elif self.fallback == "emulate":
                await emulate(scope, _Again(spool, receive), send)
            else:
                await _miss(send, scope["method"], scope["path"], self.dir)
        finally:
            spool.discard()

    async def _answer(self, ex: Exchange, send: Send) -> None:
        stream = ex.response_body is not None and "sse" in ex.response_body
        headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in ex.response_headers
                   if k not in HOP_BY_HOP and k not in _OWN]
        blob = ex.response_body is not None and "blob" in ex.response_body
        small = b"" if stream or blob else b"".join(body_bytes(ex.response_body, self.dir / "blobs"))
        if not stream:
            size = ex.response_body["size"] if blob else len(small)
            headers.append((b"content-length", str(size).encode()))
        await send({"type": "http.response.start", "status": ex.status, "headers": headers})
        if stream:   # one event per write, as it was streamed
            for block in ex.response_body["sse"]:
                await send({"type": "http.response.body", "body": (block + "\n\n").encode(), "more_body": True})
        elif blob:   # read from disk in a thread, 1 MiB at a time
            it = iter(body_bytes(ex.response_body, self.dir / "blobs"))
            while chunk := await anyio.to_thread.run_sync(next, it, b""):
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
        elif small:
            await send({"type": "http.response.body", "body": small, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})


class _Again:
    """The request body again, from the spool, for the emulator (then the real receive: disconnects)."""

    def __init__(self, spool: Spool, receive: Receive) -> None:
        self.chunks = spool.chunks()
        self.receive = receive
        self.done = False

    async def __call__(self) -> Message:
        if self.done:
            return await self.receive()
        chunk = await anyio.to_thread.run_sync(next, self.chunks, None)
        if chunk is None:
            self.done = True
            return {"type": "http.request", "body": b"", "more_body": False}
        return {"type": "http.request", "body": chunk, "more_body": True}


async def _miss(send: Send, method: str, path: str, directory: Path) -> None:
    body = orjson.dumps(errors.envelope(
        f"No recorded exchange matches {method} {path} in {directory}; serve with --replay-fallback emulate "
        "to have the emulator answer requests the recording does not hold.", code="no_recorded_exchange"))
    await send({"type": "http.response.start", "status": 404,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})

