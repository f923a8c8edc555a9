"""`--upstream URL --record DIR`: every /v1 request goes to the upstream with the caller's key, its answer
comes back unchanged, and the exchange is written to a cassette (see contracts.cassette).

Bodies are streamed both ways (httpx, `aiter_raw`): an upload or an event stream is never held in memory,
only teed into a bounded `Spool`. The cassette is written from a worker thread after the last byte went
to the caller; its sequence number is taken when the request arrives, so files sort in arrival order.
"""

from __future__ import annotations

import itertools
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio.to_thread
import httpx
from starlette.types import Receive, Scope, Send

from contracts import errors
from contracts.cassette import HOP_BY_HOP, Exchange, Redactor, next_seq, write_exchange
from mockserver.record.spool import Spool, stored_body

__all__ = ["RecordingProxy"]

log = logging.getLogger("mockserver.record")

# our server adds its own Date and Server headers; content codings the recorder can undo
_OWN = frozenset({"date", "server"})
# browser context this server has already checked (mockserver.guard); the upstream sees the proxy as its
# client, so a same-origin page here is not a cross-origin request there
_BROWSER = ("origin", "referer", "sec-fetch-")
_CODINGS = ("gzip", "deflate", "identity")


class _ClientGone(Exception):
    pass


def _accept_encoding(value: str) -> str:
    """The caller's Accept-Encoding limited to codings the recorder can decode for the cassette."""
    kept = [p.strip() for p in value.split(",") if p.split(";")[0].strip().lower() in _CODINGS]
    return ", ".join(kept) or "identity"


class RecordingProxy:
    def __init__(self, upstream: str, directory: Path | None, *, redact: tuple[str, ...] = (),
                 timeout: float = 600.0) -> None:
        self.upstream = upstream.rstrip("/")
        self.dir = directory
        self.redact = redact
        self.timeout = timeout
        self._client: httpx.AsyncClient | None = None
        self._seq = itertools.count(next_seq(directory) if directory else 1)

    @property
    def client(self) -> httpx.AsyncClient:
        if self._client is None:   # made on first use, inside the server's event loop
            self._client = httpx.AsyncClient(timeout=httpx.Timeout(self.timeout, connect=30.0),
                                             follow_redirects=False, trust_env=False)
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    def url_for(self, path: str, query: str) -> str:
        return self.upstream + path.removeprefix("/v1") + (f"?{query}" if query else "")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        started, t0 = time.time(), time.perf_counter()
        seq = next(self._seq)
        method = scope["method"]
        path, query = scope["path"], scope.get("query_string", b"").decode("latin-1")
        headers = [(k.decode("latin-1").lower(), v.decode("latin-1")) for k, v in scope["headers"]]
        names = {k for k, _ in headers}
        forward = [(k, _accept_encoding(v) if k == "accept-encoding" else v) for k, v in headers
                   if k not in HOP_BY_HOP and k != "host" and not k.startswith(_BROWSER)]
        tmp = (self.dir or Path("/tmp")) / ".spool"
        req_spool, resp_spool = Spool(tmp), Spool(tmp)
        has_body = "transfer-encoding" in names or any(k == "content-length" and v != "0" for k, v in headers)

        async def body() -> Any:
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    raise _ClientGone
                chunk = message.get("body", b"")
                if chunk:
                    if self.dir is not None:
                        await req_spool.write(chunk)
                    yield chunk
                if not message.get("more_body", False):
                    return

        request = self.client.build_request(method, self.url_for(path, query), headers=forward,
                                            content=body() if has_body else None)
        complete, status, resp_headers = False, 502, []
        try:
            try:
                upstream = await self.client.send(request, stream=True)
            except _ClientGone:
                return
            except httpx.HTTPError as e:
                await _bad_gateway(send, f"The upstream {self.upstream} could not be reached: {e!r}")
                return
            status = upstream.status_code
            resp_headers = [(k.decode("latin-1").lower(), v.decode("latin-1")) for k, v in upstream.headers.raw]
            scope.setdefault("state", {})["verbatim"] = True   # the upstream's headers, not ours
            try:
                await send({"type": "http.response.start", "status": status,
                            "headers": [(k.encode("latin-1"), v.encode("latin-1")) for k, v in resp_headers
                                        if k not in HOP_BY_HOP and k not in _OWN]})
                async for chunk in upstream.aiter_raw():
                    if self.dir is not None:
                        await resp_spool.write(chunk)
                    await send({"type": "http.response.body", "body": chunk, "more_body": True})
                await send({"type": "http.response.body", "body": b"", "more_body": False})
                complete = True
            finally:
                await upstream.aclose()
        finally:
            if self.dir is not None and resp_headers:
                ex = _Pending(seq, method, path, query, headers, status, resp_headers, started,
                              (time.perf_counter() - t0) * 1000, complete)
                await anyio.to_thread.run_sync(self._write, ex, req_spool, resp_spool)
            req_spool.discard()
            resp_spool.discard()

    def _write(self, p: _Pending, req_spool: Spool, resp_spool: Spool) -> None:
        assert self.dir is not None
        red = Redactor.with_extra(self.redact)
        blobs = self.dir / "blobs"
        try:
            req_headers = red.headers((k, v) for k, v in p.request_headers if k not in HOP_BY_HOP and k != "host")
            resp_pairs = [(k, v) for k, v in p.response_headers if k not in HOP_BY_HOP]
            coding = next((v for k, v in resp_pairs if k == "content-encoding"), "").strip().lower()
            if coding in ("gzip", "deflate"):   # stored decoded: the headers say so
                resp_pairs = [(k, v) for k, v in resp_pairs if k not in ("content-encoding", "content-length")]
            resp_headers = red.headers(resp_pairs)
            req_ctype = next((v for k, v in req_headers if k == "content-type"), "")
            resp_ctype = next((v for k, v in resp_headers if k == "content-type"), "")
            ex = Exchange(seq=p.seq, method=p.method, path=red.text(p.path), query=red.text(p.query),
                          request_headers=req_headers,
                          request_body=stored_body(req_spool, req_ctype, blobs=blobs, redactor=red),
                          status=p.status, response_headers=resp_headers,
                          response_body=stored_body(resp_spool, resp_ctype, blobs=blobs, redactor=red,
                                                    content_encoding=coding if coding != "identity" else ""),
                          started_at=p.started, elapsed_ms=p.elapsed_ms, complete=p.complete)
            write_exchange(self.dir, ex)
        except Exception:  # a recording problem must never break the caller's exchange
            log.exception("could not record %s %s", p.method, p.path)


@dataclass(slots=True)
class _Pending:
    seq: int
    method: str
    path: str
    query: str
    request_headers: list
    status: int
    response_headers: list
    started: float
    elapsed_ms: float
    complete: bool


async def _bad_gateway(send: Send, message: str) -> None:
    import orjson

    body = orjson.dumps(errors.envelope(message, type="server_error", code="upstream_unreachable"))
    await send({"type": "http.response.start", "status": 502,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
