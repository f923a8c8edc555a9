"""Raw HTTP/1.1 requests both of the server's protocols must answer with the same bytes (mockserver.protocol,
mockserver.protocol_httptools): every route kind of the SDK lifecycle, and what a client or an attacker may send
instead. Used over sockets (tests/reliability/test_wire_identity.py) and in-process, split at every byte
(tests/unit/test_protocol_wire.py)."""

from __future__ import annotations

import json

from tests.reliability._server import KEY

PROTOCOLS = ("h11", "httptools")
H = b"Host: 127.0.0.1\r\n"
AUTH = b"Authorization: Bearer " + KEY.encode() + b"\r\n"
CLOSE = b"GET /v1/models HTTP/1.1\r\n" + H + AUTH + b"Connection: close\r\n\r\n"   # ends a keep-alive case


def req(method: str, target: str, *headers: bytes, body: bytes = b"", close: bool = True, auth: bool = True,
         host: bool = True, length: bool | None = None) -> bytes:
    lines = [f"{method} {target} HTTP/1.1\r\n".encode()]
    lines += [H] if host else []
    lines += [AUTH] if auth else []
    lines += [h + b"\r\n" for h in headers]
    if length or (length is None and (body or method in ("POST", "PUT", "PATCH"))):
        lines.append(b"Content-Length: %d\r\n" % len(body))
    lines += [b"Connection: close\r\n"] if close else []
    return b"".join(lines) + b"\r\n" + body


def chunked(body: bytes, size: int = 7) -> bytes:
    parts = [b"%x\r\n%s\r\n" % (len(body[i:i + size]), body[i:i + size]) for i in range(0, len(body), size)]
    return b"".join(parts) + b"0\r\n\r\n"


CHAT = json.dumps({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hello there"}]}).encode()
CHAT_STREAM = json.dumps({"model": "gpt-4o-mini", "stream": True, "stream_options": {"include_usage": True},
                          "messages": [{"role": "user", "content": "tell me a story"}]}).encode()
JSON = b"Content-Type: application/json"
PAD = b"X-Pad: " + b"p" * 20_000

# name → raw bytes sent on one connection (each case ends with a request that closes it, or is closed by the server)
CORPUS: dict[str, bytes] = {
    "models": req("GET", "/v1/models"),
    "models keep-alive then close": req("GET", "/v1/models", close=False) + CLOSE,
    "model retrieve": req("GET", "/v1/models/gpt-4o-mini-2024-07-18"),
    "model missing": req("GET", "/v1/models/nope"),
    "files list": req("GET", "/v1/files?limit=2&order=asc"),
    "job missing": req("GET", "/v1/fine_tuning/jobs/ftjob-nope"),
    "job events missing": req("GET", "/v1/fine_tuning/jobs/ftjob-nope/events?limit=5"),
    "job create bad file": req("POST", "/v1/fine_tuning/jobs", JSON,
                                body=b'{"model": "gpt-4o-mini", "training_file": "file-nope"}'),
    "chat": req("POST", "/v1/chat/completions", JSON, body=CHAT),
    "chat streamed": req("POST", "/v1/chat/completions", JSON, body=CHAT_STREAM),
    "chat streamed, keep-alive": req("POST", "/v1/chat/completions", JSON, body=CHAT_STREAM, close=False) + CLOSE,
    "openapi document (a large body)": req("GET", "/openapi.json", auth=False),
    "chat bad json": req("POST", "/v1/chat/completions", JSON, body=b"{nope"),
    "chat no key": req("POST", "/v1/chat/completions", JSON, body=CHAT, auth=False),
    "upload wrong type": req("POST", "/v1/files", b"Content-Type: text/plain", body=b"x" * 100),
    "not found": req("GET", "/v1/nope"),
    "method not allowed": req("PUT", "/v1/files", body=b""),
    "options": req("OPTIONS", "/v1/models"),
    "delete missing": req("DELETE", "/v1/files/file-nope"),
    "patch": req("PATCH", "/v1/fine_tuning/jobs/ftjob-nope", JSON, body=b"{}"),
    "head": req("HEAD", "/v1/models"),
    "head missing": req("HEAD", "/v1/nope"),
    "head keep-alive then close": req("HEAD", "/v1/models", close=False) + CLOSE,
    "get with a body": req("GET", "/v1/models", body=b"x" * 1000),
    "get with a body, keep-alive": req("GET", "/v1/models", body=b"x" * 1000, close=False) + CLOSE,
    "content-length 0 keep-alive": req("GET", "/v1/models", close=False, length=True) + CLOSE,
    "content-length leading zeros": req("GET", "/v1/models", b"Content-Length: 0003", body=b"abc",
                                         length=False),
    "no host": req("GET", "/v1/models", host=False),
    "no host, keep-alive": req("GET", "/v1/models", host=False, close=False) + CLOSE,
    "two hosts": req("GET", "/v1/models", b"Host: 127.0.0.1"),
    "other host": req("GET", "/v1/models", b"Host: example.com", host=False),
    "empty host": req("GET", "/v1/models", b"Host:", host=False),
    "oversized head": req("GET", "/v1/models", PAD),
    "oversized head, incomplete": b"GET /v1/models HTTP/1.1\r\n" + H + PAD + b"\r\n",
    "head of 16 KiB": req("GET", "/v1/models", b"X-Pad: " + b"p" * 16_200),
    "bad request line": b"GARBAGE\r\n\r\n",
    "bad request line, incomplete": b"\x01GET / HTTP/1.1\r\n",
    "leading blank line": b"\r\n" + req("GET", "/v1/models"),
    "empty": b"\r\n\r\n",
    "unknown method": req("FOO", "/v1/models"),
    "lower-case method": req("get", "/v1/models"),
    "unknown version": b"GET /v1/models HTTP/1.2\r\n" + H + b"Connection: close\r\n\r\n",
    "http/2 preface": b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
    "http/1.0": b"GET /v1/models HTTP/1.0\r\n" + H + AUTH + b"\r\n",
    "http/1.0 keep-alive": b"GET /v1/models HTTP/1.0\r\n" + H + AUTH + b"Connection: keep-alive\r\n\r\n" + CLOSE,
    "http/1.0 post": b"POST /v1/chat/completions HTTP/1.0\r\n" + H + AUTH + JSON + b"\r\nContent-Length: %d\r\n\r\n"
                     % len(CHAT) + CHAT,
    "absolute-form target": req("GET", "http://127.0.0.1/v1/models"),
    "absolute-form target, other host": req("GET", "http://example.com:80/v1/models?limit=1"),
    "asterisk target": req("OPTIONS", "*"),
    "fragment": req("GET", "/v1/models#frag"),
    "query with ?": req("GET", "/v1/files?limit=1?x=2&after="),
    "percent-encoded path": req("GET", "/v1/models/gpt%2D4o%2Fmini"),
    "bad percent-encoding": req("GET", "/v1/models/%zz%"),
    "non-ascii target": b"GET /v1/files/\xff\xfe HTTP/1.1\r\n" + H + b"Connection: close\r\n\r\n",
    "space in target": b"GET /v1/mo dels HTTP/1.1\r\n" + H + b"Connection: close\r\n\r\n",
    "nul in header": req("GET", "/v1/models", b"X-A: b\x00c"),
    "control byte in header": req("GET", "/v1/models", b"X-A: b\x01c"),
    "del in header": req("GET", "/v1/models", b"X-A: b\x7fc"),
    "obs-text in header": req("GET", "/v1/models", b"X-A: caf\xe9"),
    "space in header name": req("GET", "/v1/models", b"Bad Name: x"),
    "space before colon": req("GET", "/v1/models", b"X-A : x"),
    "empty header name": req("GET", "/v1/models", b": x"),
    "no colon": req("GET", "/v1/models", b"NoColon"),
    "obs-fold": req("GET", "/v1/models", b"X-A: one\r\n two"),
    "tab in value": req("GET", "/v1/models", b"X-A: one\ttwo"),
    "trailing whitespace": req("GET", "/v1/models", b"X-A: one  \t"),
    "no space after colon": req("GET", "/v1/models", b"X-A:one"),
    "bare LF": b"GET /v1/models HTTP/1.1\nHost: 127.0.0.1\nConnection: close\n\n",
    "mixed line ends": b"GET /v1/models HTTP/1.1\r\nHost: 127.0.0.1\nConnection: close\r\n\n",
    "chunked chat": req("POST", "/v1/chat/completions", JSON, b"Transfer-Encoding: chunked",
                         body=chunked(CHAT), length=False),
    "chunked keep-alive then close": req("POST", "/v1/chat/completions", JSON, b"Transfer-Encoding: chunked",
                                          body=chunked(CHAT), length=False, close=False) + CLOSE,
    "chunked with extensions and trailer": req("POST", "/v1/chat/completions", JSON,
                                                b"Transfer-Encoding: chunked", length=False,
                                                body=b"%x;ext=1\r\n%s\r\n0\r\nX-T: y\r\n\r\n" % (len(CHAT), CHAT)),
    "bad chunk size": req("POST", "/v1/chat/completions", JSON, b"Transfer-Encoding: chunked", length=False,
                           body=b"zz\r\nabc\r\n0\r\n\r\n"),
    "chunked upper case": req("POST", "/v1/chat/completions", JSON, b"Transfer-Encoding: CHUNKED",
                               body=chunked(CHAT), length=False),
    "gzip transfer-encoding": req("POST", "/v1/chat/completions", JSON, b"Transfer-Encoding: gzip, chunked",
                                   body=chunked(CHAT), length=False),
    "content-length and chunked": req("POST", "/v1/chat/completions", JSON, b"Transfer-Encoding: chunked",
                                       b"Content-Length: 3", body=b"zz\r\n", length=False),
    "two content-lengths": req("POST", "/v1/chat/completions", JSON, b"Content-Length: 3", b"Content-Length: 4",
                                body=b"abcd", length=False),
    "same content-length twice": req("POST", "/v1/chat/completions", JSON, b"Content-Length: 2",
                                      b"Content-Length: 2", body=b"{}", length=False),
    "content-length list": req("POST", "/v1/chat/completions", JSON, b"Content-Length: 2, 2", body=b"{}",
                                length=False),
    "negative content-length": req("POST", "/v1/files", b"Content-Length: -1", length=False),
    "huge content-length": req("POST", "/v1/files", b"Content-Length: 99999999999999999999999", length=False),
    "expect 100-continue": req("POST", "/v1/chat/completions", JSON, b"Expect: 100-continue", body=CHAT),
    "expect something else": req("POST", "/v1/chat/completions", JSON, b"Expect: tea", body=CHAT),
    "upgrade websocket": req("GET", "/v1/models", b"Connection: Upgrade", b"Upgrade: websocket"),
    "upgrade h2c": req("GET", "/v1/models", b"Upgrade: h2c"),
    "connection Close": req("GET", "/v1/models", b"Connection: Close", close=False),
    "connection keep-alive, close": req("GET", "/v1/models", b"Connection: keep-alive, close", close=False),
    "connection keep-alive twice": req("GET", "/v1/models", b"Connection: keep-alive", b"Connection: keep-alive",
                                        close=False) + CLOSE,
    "connection te": req("GET", "/v1/models", b"Connection: TE", b"TE: trailers"),
    "pipelined": req("GET", "/v1/models", close=False) + req("GET", "/v1/nope", close=False)
                 + req("POST", "/v1/chat/completions", JSON, body=CHAT, close=False) + CLOSE,
    "pipelined after close": req("GET", "/v1/models") + req("GET", "/v1/nope"),
    "good then garbage": req("GET", "/v1/models", close=False) + b"GARBAGE\r\n\r\n",
    "good then no host": req("GET", "/v1/models", close=False) + req("GET", "/v1/models", host=False),
    "good then chunked": req("GET", "/v1/models", close=False)
                         + req("POST", "/v1/chat/completions", JSON, b"Transfer-Encoding: chunked",
                                body=chunked(CHAT), length=False, close=False) + CLOSE,
    "good then http/1.0": req("GET", "/v1/models", close=False)
                          + b"GET /v1/models HTTP/1.0\r\n" + H + AUTH + b"\r\n",
    "good then oversized head": req("GET", "/v1/models", close=False) + req("GET", "/v1/models", PAD),
    "refused before the body": req("POST", "/v1/files", b"Content-Type: text/plain",
                                    b"Content-Length: 100000", length=False) + b"x" * 1000,
    "api key with spaces": req("GET", "/v1/models", b"Authorization: Bearer not a key", auth=False),
}
