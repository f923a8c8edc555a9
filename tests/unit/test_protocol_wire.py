"""Both protocols in-process, no sockets: the corpus (tests/wire_corpus.py) fed whole, in halves and a byte at a
time to `EmulatorH11Protocol` and `EmulatorHttpToolsProtocol` serving an app that echoes the request it saw
(method, target, headers, body); what each writes, and whether it closes, must be the same. Then responses of
every shape an app can send (framing, HEAD, errors of the app) to the same request."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import h11
import pytest

from tests.wire_corpus import CORPUS, JSON, req

httptools = pytest.importorskip("httptools")

from mockserver.protocol import EmulatorH11Protocol  # noqa: E402
from mockserver.protocol_httptools import EmulatorHttpToolsProtocol  # noqa: E402

PROTOCOLS = {"h11": EmulatorH11Protocol, "httptools": EmulatorHttpToolsProtocol}


class _Transport:
    def __init__(self) -> None:
        self.out = bytearray()
        self.closed = self.eof = self.paused = False
        self.protocol: Any = None

    def write(self, data: bytes) -> None:
        if not self.closed:
            self.out += data

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True

    def can_write_eof(self) -> bool:
        return True

    def write_eof(self) -> None:
        self.eof = True

    def set_protocol(self, protocol: Any) -> None:
        self.protocol = protocol

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"peername": ("127.0.0.1", 1), "sockname": ("127.0.0.1", 2)}.get(name, default)

    def pause_reading(self) -> None:
        self.paused = True

    def resume_reading(self) -> None:
        self.paused = False


async def echo(scope, receive, send) -> None:
    body = b""
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    seen = {k: scope[k] if not isinstance(scope[k], bytes) else scope[k].decode("latin-1")
            for k in ("method", "path", "raw_path", "query_string", "http_version")}
    seen["headers"] = [[n.decode("latin-1"), v.decode("latin-1")] for n, v in scope["headers"]]
    seen["body"] = body.decode("latin-1")
    out = json.dumps(seen).encode()
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(out))]})
    await send({"type": "http.response.body", "body": out})


def _serve(protocol_class, app, chunks: list[bytes]) -> tuple[bytes, bool]:
    """What the protocol writes for `chunks` (each delivered after the loop ran), and whether it closed."""
    from uvicorn import Config
    from uvicorn.server import ServerState

    async def scenario() -> tuple[bytes, bool]:
        config = Config(app, http=protocol_class, log_level="critical")
        config.load()
        proto = protocol_class(config=config, server_state=ServerState(), app_state={})
        transport = _Transport()
        transport.protocol = proto
        proto.connection_made(transport)
        for chunk in chunks:
            if transport.closed:
                break
            transport.protocol.data_received(chunk)
            for _ in range(8):
                await asyncio.sleep(0)
        for _ in range(30):
            await asyncio.sleep(0)
        transport.protocol.connection_lost(None)
        return bytes(transport.out), transport.closed

    return asyncio.run(scenario())


def _splits(raw: bytes) -> dict[str, list[bytes]]:
    out = {"whole": [raw], "halves": [raw[:len(raw) // 2], raw[len(raw) // 2:]]}
    if len(raw) <= 1500:
        out["bytes"] = [raw[i:i + 1] for i in range(len(raw))]
    else:
        out["lines"] = [line for line in raw.splitlines(keepends=True)]
    return out


@pytest.mark.parametrize("name", list(CORPUS))
def test_the_same_request_seen_and_the_same_bytes_written(name: str) -> None:
    for split, chunks in _splits(CORPUS[name]).items():
        h11_out = _serve(EmulatorH11Protocol, echo, chunks)
        assert _serve(EmulatorHttpToolsProtocol, echo, chunks) == h11_out, (name, split, h11_out)


def test_the_fast_path_serves_the_sdk_s_requests_itself(monkeypatch) -> None:
    """The lifecycle's plain requests are parsed by llhttp, not handed to h11."""
    handed = []
    monkeypatch.setattr(EmulatorHttpToolsProtocol, "_hand_over", lambda self: handed.append(self._buf))
    sdk = (b"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1:8000\r\nAccept-Encoding: gzip, deflate\r\n"
           b"Connection: keep-alive\r\nAccept: application/json\r\nContent-Type: application/json\r\n"
           b"User-Agent: OpenAI/Python 1.99.0\r\nX-Stainless-Lang: python\r\nX-Stainless-Async: false\r\n"
           b"Authorization: Bearer sk-x\r\nX-Stainless-Retry-Count: 0\r\nContent-Length: 2\r\n\r\n{}")
    for raw in (sdk, CORPUS["models keep-alive then close"], CORPUS["pipelined"], CORPUS["get with a body"],
                CORPUS["head"], CORPUS["content-length 0 keep-alive"]):
        out, _ = _serve(EmulatorHttpToolsProtocol, echo, [raw])
        assert out.startswith(b"HTTP/1.1 200 OK\r\n")
    assert handed == []


async def _respond(scope, receive, send, start: dict, bodies: list[dict], fail: str = "") -> None:
    if fail == "before":
        raise RuntimeError("boom")
    await send({"type": "http.response.start", **start})
    for body in bodies:
        await send({"type": "http.response.body", **body})
    if fail == "after":
        raise RuntimeError("boom")


def _app(status=200, headers=(), bodies=({"body": b"hello"},), fail=""):
    async def app(scope, receive, send) -> None:
        await _respond(scope, receive, send, {"status": status, "headers": list(headers)}, list(bodies), fail)
    return app


CL5 = (b"content-length", b"5")
RESPONSES = {
    "content-length": _app(headers=[CL5]),
    "no length: chunked": _app(),
    "streamed chunks": _app(bodies=[{"body": b"ab", "more_body": True}, {"body": b"", "more_body": True},
                                    {"body": b"cde"}]),
    "app's chunked": _app(headers=[(b"Transfer-Encoding", b"Chunked")]),
    "app's chunked and length": _app(headers=[CL5, (b"transfer-encoding", b"chunked")]),
    "app's close": _app(headers=[CL5, (b"connection", b"close")]),
    "app's Close, keep-alive": _app(headers=[CL5, (b"Connection", b"Keep-Alive, Close")]),
    "app's keep-alive": _app(headers=[CL5, (b"connection", b"keep-alive")]),
    "upper-case names": _app(headers=[(b"Content-Length", b"5"), (b"X-Thing", b"a  b")]),
    "host header first": _app(headers=[CL5, (b"x-a", b"1"), (b"host", b"h")]),
    "length list": _app(headers=[(b"content-length", b"5, 5")]),
    "same length twice": _app(headers=[CL5, CL5]),
    "conflicting lengths": _app(headers=[CL5, (b"content-length", b"6")]),
    "bad length": _app(headers=[(b"content-length", b"x")]),
    "gzip encoding": _app(headers=[(b"transfer-encoding", b"gzip")]),
    "bad header name": _app(headers=[(b"bad name", b"x")]),
    "bad header value": _app(headers=[(b"x-a", b"a\r\nb")]),
    "value with trailing space": _app(headers=[(b"x-a", b"a ")]),
    "newline in a second value": _app(headers=[(b"x-thing", b"a  b"), (b"x-thing", b"a\nx-b: c")]),
    "too much data": _app(headers=[CL5], bodies=[{"body": b"hello!"}]),
    "too little data": _app(headers=[CL5], bodies=[{"body": b"hell"}]),
    "204": _app(status=204, bodies=[{"body": b""}]),
    "204 with a body": _app(status=204),
    "304 with length": _app(status=304, headers=[CL5], bodies=[{"body": b""}]),
    "unknown status": _app(status=299, headers=[CL5]),
    "status 101": _app(status=101),
    "status 600": _app(status=600),
    "error before the start": _app(fail="before"),
    "error after the start": _app(headers=[CL5], bodies=[{"body": b"he", "more_body": True}], fail="after"),
    "error after the response": _app(headers=[CL5], fail="after"),
}
REQUESTS = {
    "keep-alive": req("GET", "/x", close=False),
    "close": req("GET", "/x"),
    "Close": req("GET", "/x", b"Connection: Close", close=False),
    "head": req("HEAD", "/x", close=False),
    "head close": req("HEAD", "/x"),
    "post unread body": req("POST", "/x", JSON, body=b"{}" * 100, close=False),
}


@pytest.mark.parametrize("request_name", list(REQUESTS))
@pytest.mark.parametrize("response", list(RESPONSES))
def test_every_response_shape_is_written_as_h11_writes_it(response: str, request_name: str) -> None:
    app = RESPONSES[response]
    raw = REQUESTS[request_name] + req("GET", "/again")   # what follows shows whether the connection went on
    assert _serve(EmulatorHttpToolsProtocol, app, [raw]) == _serve(EmulatorH11Protocol, app, [raw])


@pytest.mark.parametrize("value", [b"", b"a", b"a \tb", b" a", b"a\t", b"a\nb", b"a\r\nx-b: c", b"a\x00", b"\x0b",
                                   b"a\x0cb", b"a\n", b"\n", b"caf\xc3\xa9"])
def test_the_usual_response_head_checks_values_as_h11_does(value: bytes) -> None:
    """`_response_head` checks the values of known header names in one match: the same head, or the same error,
    as h11's steps one by one (`_h11_head`), whatever the value and wherever it stands."""
    from mockserver.protocol_httptools import _PLAIN, _h11_head, _response_head

    _PLAIN.add(b"x-a")   # a name seen before: the usual path
    for headers in ([(b"x-a", value)], [(b"x-a", b"ok"), (b"x-a", value), CL5], [(b"x-a", value), (b"x-a", b"")]):
        results = []
        for write in (_response_head, _h11_head):
            try:
                results.append(write(200, b"OK", headers, "GET", False))
            except h11.LocalProtocolError as e:
                results.append(str(e))
        assert results[0] == results[1], headers


def test_bytes_after_a_closing_request_are_refused_as_h11_refuses_them() -> None:
    """h11 answers data that arrives (in a later read) after a `Connection: close` request with its 400 while
    the response has not begun; the same bytes, also for HEAD (no body) and once the response has begun."""
    async def slow(scope, receive, send) -> None:
        for _ in range(20):
            await asyncio.sleep(0)
        await _respond(scope, receive, send, {"status": 200, "headers": [CL5]}, [{"body": b"hello"}])

    async def begun(scope, receive, send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": [CL5]})
        for _ in range(20):
            await asyncio.sleep(0)
        await send({"type": "http.response.body", "body": b"hello"})

    for method in ("GET", "HEAD", "POST"):
        chunks = [req(method, "/x", body=b"{}" if method == "POST" else b""), b"GET / HTTP/1.1\r\n"]
        for app in (slow, begun):
            h11_out = _serve(EmulatorH11Protocol, app, chunks)
            assert _serve(EmulatorHttpToolsProtocol, app, chunks) == h11_out, (method, app)
            assert h11_out[0].startswith(b"HTTP/1.1 400 Bad Request\r\n" if app is slow else b"HTTP/1.1 200 OK\r\n")
            assert h11_out[1]
