"""The hot path: `POST /v1/chat/completions` and `POST /v1/completions`, and the lifecycle's fast routes
(`deps.fast_route`: upload, retrieve a file, create and retrieve a job, list its events), straight from the server
to their handlers, ahead of the app's middleware stack.

A request to either endpoint otherwise passes about a dozen ASGI layers before its handler runs (Starlette's
ServerErrorMiddleware, FastAPI's telemetry and body-limit wrappers, the emulator's three middlewares,
ExceptionMiddleware, AsyncExitStackMiddleware, the router trying each route) and each of them wraps `send`
again on the way out: ~60 µs of a ~250 µs request under uvicorn (`python -m bench.h11_profile`). For these
two endpoints every one of those layers is a pass-through, so `EmulatorAPI.__call__` does what they would
do, in one frame:

- the response headers and the URL's NUL check (`mockserver.http`: `with_api_headers`, `url_problem`) and
  the browser guard (`mockserver.guard.BrowserGuard`), in the middlewares' order, then the data-dir guard
  (`files.storage.DataDirGuard`) for a request that may write: not a GET, nor one of the two chat POSTs,
  which store nothing (`files.storage.WRITE_FREE_POSTS`);
- routing: a fast route is taken when it matches fully (path and method), as the router would take it —
  the fast routes come first among its routes; its path parameters go into the scope as the router puts them;
- the error path: an `APIError` (or Starlette's `HTTPException`) is rendered as the handlers installed by
  `mockserver.errors` render it; any other exception gets the same logged 500 envelope
  (`errors.unexpected`) and is re-raised for the server to log, as ServerErrorMiddleware does.

Everything else goes through the stack unchanged: other paths and methods, a mounted root path, a proxy or
replay (mockserver.record), and FastAPI's native OpenTelemetry when a provider is configured. The FastAPI
routes stay registered for the OpenAPI schema, and the fast routes stay in the router (both serve whatever
falls back). `tests/unit/test_hot_path.py` compares both paths request by request.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Sequence

from fastapi import FastAPI
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match, Route
from starlette.types import Receive, Scope, Send

from contracts import errors
from mockserver.errors import http_error, render, unexpected
from mockserver.files.storage import WRITE_FREE_POSTS, may_write
from mockserver.guard import BrowserGuard
from mockserver.http import api_headers, url_problem, with_api_headers

__all__ = ["EmulatorAPI", "HotPath"]

Endpoint = Callable[[Request], Awaitable[Response]]
_PLAIN = Response.__call__   # a response class that keeps it sends its status, headers and body, nothing else


class HotPath:
    """The endpoints served ahead of the stack and the checks they share: `routes` (path → handler, POST only,
    endpoints that store nothing) and `fast` (the router's fast routes, in its order, with path parameters);
    `check_alive` is the data-dir guard's check, made before a request that may write."""

    def __init__(self, routes: dict[str, Endpoint], *, new_request_id: Callable[[], str], guard: BrowserGuard,
                 fast: Sequence[Route] = (), check_alive: Callable[[], None] | None = None) -> None:
        if not routes.keys() <= WRITE_FREE_POSTS:   # the data-dir guard is not applied to these
            raise ValueError(f"hot endpoints must store nothing: {sorted(routes.keys() - WRITE_FREE_POSTS)}")
        if fast and check_alive is None:
            raise ValueError("fast routes need the data-dir guard's check")
        self.routes = routes
        self.fast = tuple(fast)
        self.check_alive = check_alive
        self.new_request_id = new_request_id
        self.guard = guard

    def endpoint(self, scope: Scope) -> tuple[Endpoint, dict | None] | None:
        """The handler a request goes to (and the scope its route adds), or None: the stack serves it."""
        if scope["method"] == "POST" and (endpoint := self.routes.get(scope["path"])) is not None:
            return endpoint, None
        for route in self.fast:
            match, child = route.matches(scope)
            if match is Match.FULL:
                return route.endpoint, child
        return None

    async def serve(self, endpoint: Endpoint, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        request_id = self.new_request_id()
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        request = Request(scope, receive)
        try:
            problem = url_problem(scope) or self.guard.problem(scope)
            if problem is not None:
                raise problem
            if may_write(scope):
                self.check_alive()
            response = await endpoint(request)
        except errors.APIError as e:
            response = render(e)
        except HTTPException as e:
            response = await http_error(request, e)
        except Exception as e:
            await (await unexpected(request, e))(scope, receive, with_api_headers(send, scope, request_id, started))
            raise
        if type(response).__call__ is not _PLAIN or response.background is not None or state.get("verbatim"):
            await response(scope, receive, with_api_headers(send, scope, request_id, started))
            return
        # what Response.__call__ sends, with the API's headers added in one list (no wrapped send)
        await send({"type": "http.response.start", "status": response.status_code,
                    "headers": api_headers(response.raw_headers, response.status_code, request_id, started)})
        await send({"type": "http.response.body", "body": response.body})


class EmulatorAPI(FastAPI):
    """FastAPI that hands the hot endpoints and fast routes (`hot`, set by create_app) to HotPath before its
    stack."""

    hot: HotPath | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        hot = self.hot
        if hot is not None and scope["type"] == "http" and not self.root_path and not scope.get("root_path"):
            found = hot.endpoint(scope)
            if found is not None and not self._native_telemetry.enabled():
                endpoint, child = found
                if child:
                    scope.update(child)
                scope["app"] = self
                await hot.serve(endpoint, scope, receive, send)
                return
        await super().__call__(scope, receive, send)

