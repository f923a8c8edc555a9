"""The hot path: `POST /v1/chat/completions` and `POST /v1/completions` straight from the server to their
handlers, ahead of the app's middleware stack.

A request to either endpoint otherwise passes about a dozen ASGI layers before its handler runs (Starlette's
ServerErrorMiddleware, FastAPI's telemetry and body-limit wrappers, the emulator's three middlewares,
ExceptionMiddleware, AsyncExitStackMiddleware, the router trying each route) and each of them wraps `send`
again on the way out: ~60 µs of a ~250 µs request under uvicorn (`python -m bench.h11_profile`). For these
two endpoints every one of those layers is a pass-through, so `EmulatorAPI.__call__` does what they would
do, in one frame:

- the response headers and the URL's NUL check (`mockserver.http`: `with_api_headers`, `url_problem`) and
  the browser guard (`mockserver.guard.BrowserGuard`), in the middlewares' order; the data-dir guard has
  nothing to check (both endpoints store nothing: `files.storage.WRITE_FREE_POSTS`, which DataDirGuard
  skips too);
- the error path: an `APIError` is rendered as the handlers installed by `mockserver.errors` render it;
  any other exception gets the same logged 500 envelope (`errors.unexpected`) and is re-raised for the
  server to log, as ServerErrorMiddleware does.

Everything else goes through the stack unchanged: other paths and methods, a mounted root path, a proxy or
replay (mockserver.record), and FastAPI's native OpenTelemetry when a provider is configured. The FastAPI
routes of both endpoints stay registered for the OpenAPI schema (and serve whatever falls back).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from contracts import errors
from mockserver.errors import render, unexpected
from mockserver.files.storage import WRITE_FREE_POSTS
from mockserver.guard import BrowserGuard
from mockserver.http import url_problem, with_api_headers

__all__ = ["EmulatorAPI", "HotPath"]

Endpoint = Callable[[Request], Awaitable[Response]]


class HotPath:
    """The endpoints served ahead of the stack (path → handler, POST only) and the checks they share."""

    def __init__(self, routes: dict[str, Endpoint], *, new_request_id: Callable[[], str], guard: BrowserGuard
                 ) -> None:
        if not routes.keys() <= WRITE_FREE_POSTS:   # the data-dir guard is not applied here
            raise ValueError(f"hot endpoints must store nothing: {sorted(routes.keys() - WRITE_FREE_POSTS)}")
        self.routes = routes
        self.new_request_id = new_request_id
        self.guard = guard

    async def serve(self, endpoint: Endpoint, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        request_id = self.new_request_id()
        scope.setdefault("state", {})["request_id"] = request_id
        send = with_api_headers(send, scope, request_id, started)
        request = Request(scope, receive)
        try:
            problem = url_problem(scope) or self.guard.problem(scope)
            if problem is not None:
                raise problem
            response = await endpoint(request)
        except errors.APIError as e:
            response = render(e)
        except Exception as e:
            await (await unexpected(request, e))(scope, receive, send)
            raise
        await response(scope, receive, send)


class EmulatorAPI(FastAPI):
    """FastAPI that hands the hot endpoints (`hot`, set by create_app) to HotPath before its stack."""

    hot: HotPath | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        hot = self.hot
        if hot is not None and scope["type"] == "http" and scope["method"] == "POST" and not self.root_path \
                and not scope.get("root_path"):
            endpoint = hot.routes.get(scope["path"])
            if endpoint is not None and not self._native_telemetry.enabled():
                scope["app"] = self
                await hot.serve(endpoint, scope, receive, send)
                return
        await super().__call__(scope, receive, send)

