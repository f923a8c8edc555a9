"""HTTP edge helpers: the JSON response class, body parsing, and the request-header middleware."""

from __future__ import annotations

import re
import time
from typing import Any

import orjson
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from contracts import errors
from contracts.limits import MAX_JSON_BODY_BYTES

__all__ = ["JSONResponse", "read_json", "read_unread_json", "HeadersMiddleware", "api_headers", "with_api_headers", "url_problem"]


class JSONResponse(Response):
    """orjson-rendered JSON: explicit nulls survive, non-ASCII stays UTF-8."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)

    def init_headers(self, headers: Any = None) -> None:
        """Starlette's headers for the common case (no extra headers, a status with a body), built directly."""
        status = self.status_code
        if headers is not None or self.media_type != "application/json" or status < 200 or status in (204, 304):
            super().init_headers(headers)
            return
        self.raw_headers = [(b"content-length", b"%d" % len(self.body)), (b"content-type", b"application/json")]


async def read_json(request: Request, *, max_bytes: int = MAX_JSON_BODY_BYTES) -> dict[str, Any]:
    """The request's JSON object, or the real API's 400 for bodies that are not one (413 past `max_bytes`:
    1 MiB by default, chat and completions pass their own larger cap)."""
    declared = request.headers.get("content-length")
    if declared and declared.isascii() and declared.isdigit() and int(declared) > max_bytes:   # int() refuses "²"
        raise _too_large(max_bytes, declared)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > max_bytes:
            raise _too_large(max_bytes)
    return _json_object(body)


async def read_unread_json(request: Request, *, max_bytes: int) -> dict[str, Any]:
    """`read_json` for a request whose body nothing has read yet (the chat and completions handlers): the same
    answers and errors, its messages taken from `request.receive` as Starlette's stream takes them, without the
    stream's async generator (~2.5 µs a request; `python -m bench.h11_profile`)."""
    declared = request.headers.get("content-length")
    if declared and declared.isascii() and declared.isdigit() and int(declared) > max_bytes:
        raise _too_large(max_bytes, declared)
    receive = request.receive
    body = bytearray()
    while True:
        message = await receive()
        kind = message["type"]
        if kind == "http.request":
            body += message.get("body", b"")
            if len(body) > max_bytes:
                raise _too_large(max_bytes)
            if not message.get("more_body", False):
                return _json_object(body)
        elif kind == "http.disconnect":
            raise ClientDisconnect()


def _too_large(max_bytes: int, declared: str | None = None) -> errors.APIError:
    if declared is not None:
        return errors.PayloadTooLarge(f"Request body too large: {declared} bytes; the limit is {max_bytes}.",
                                      code="request_too_large")
    return errors.PayloadTooLarge(f"Request body too large; the limit is {max_bytes} bytes.",
                                  code="request_too_large")


def _json_object(body: bytes | bytearray) -> dict[str, Any]:
    """The JSON object a whole request body holds, or the API's 400."""
    if not body.strip():
        raise errors.invalid_json_body("the body is empty")
    # PostgreSQL cannot store NUL; refused on every backend alike (substring test first: the regex is slow)
    if b"\\u0000" in body and _ESCAPED_NUL.search(body):
        raise errors.BadRequest("Invalid JSON body: strings may not contain NUL characters (\\u0000).",
                                code="invalid_json")
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as e:
        raise errors.invalid_json_body(str(e)) from None
    if not isinstance(data, dict):
        raise errors.BadRequest("The request body must be a JSON object.", code="invalid_json")
    return data


_ESCAPED_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")


def url_problem(scope: Scope) -> errors.APIError | None:
    """The 400 for a path or query string with a NUL in it (PostgreSQL cannot store one), else None."""
    if "\x00" in scope.get("path", "") or b"%00" in scope.get("query_string", b""):
        return errors.BadRequest("Invalid URL: paths and query strings may not contain NUL characters (%00).",
                                 code="invalid_url")
    return None


def api_headers(headers: Any, status: int, request_id: str, started: float) -> list[tuple[bytes, bytes]]:
    """`headers` followed by x-request-id, openai-version, openai-processing-ms (since `started`) and, on a 4xx
    the client should not retry, x-should-retry: false."""
    out = [*headers, (b"x-request-id", request_id.encode()), (b"openai-version", b"2020-10-01"),
           (b"openai-processing-ms", b"%d" % int((time.perf_counter() - started) * 1000))]
    if 400 <= status < 500 and status not in (408, 429):
        out.append((b"x-should-retry", b"false"))
    return out


def with_api_headers(send: Send, scope: Scope, request_id: str, started: float) -> Send:
    """`send` adding the API's headers (`api_headers`) to the response; nothing for responses relayed or
    replayed verbatim."""
    async def send_with_headers(message: Message) -> None:
        if message["type"] == "http.response.start" and not scope["state"].get("verbatim"):
            message = {**message, "headers": api_headers(message.get("headers", ()), message["status"], request_id,
                                                         started)}
        await send(message)
    return send_with_headers


class HeadersMiddleware:
    """Adds the API's response headers (`with_api_headers`) to every response but those relayed or replayed
    verbatim (`scope["state"]["verbatim"]`, see mockserver.record); refuses NUL in the URL (`url_problem`)."""

    def __init__(self, app: ASGIApp, *, new_request_id) -> None:
        self.app = app
        self.new_request_id = new_request_id

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id = self.new_request_id()
        scope.setdefault("state", {})["request_id"] = request_id
        app = self.app
        problem = url_problem(scope)
        if problem is not None:
            app = JSONResponse(problem.body(), status_code=problem.status)
        await app(scope, receive, with_api_headers(send, scope, request_id, started))
