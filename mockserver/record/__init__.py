"""Record, replay: the emulator as a recording proxy in front of another API, or answering from cassettes.

`install(app, settings)` puts `RecordReplayMiddleware` innermost among the app's middleware, so the
request-header and host checks around it apply to proxied and replayed requests alike; responses that
are relayed or replayed verbatim set `scope["state"]["verbatim"]`, and `HeadersMiddleware` then leaves
their headers as they were. Paths outside /v1 (control plane, dashboard) stay the emulator's.
"""

from __future__ import annotations

from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from mockserver.settings import Settings

__all__ = ["RecordReplayMiddleware", "install", "aclose"]


class RecordReplayMiddleware:
    def __init__(self, app: ASGIApp, *, handler: Any) -> None:
        self.app = app
        self.handler = handler

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if not (path == "/v1" or path.startswith("/v1/")):
            await self.app(scope, receive, send)
        elif hasattr(self.handler, "fallback"):   # replay: misses may go to the emulator
            await self.handler(scope, receive, send, self.app)
        else:
            await self.handler(scope, receive, send)


def install(app: Any, settings: Settings) -> None:
    """Add the middleware when the settings ask for a proxy or a replay (a no-op otherwise)."""
    handler: Any = None
    if settings.upstream:
        from mockserver.record.proxy import RecordingProxy

        handler = RecordingProxy(settings.upstream, settings.record, redact=settings.redact_list)
    elif settings.replay:
        from mockserver.record.replay import Replayer

        handler = Replayer(settings.replay, fallback=settings.replay_fallback)
    if handler is not None:
        app.state.record_handler = handler
        app.add_middleware(RecordReplayMiddleware, handler=handler)


async def aclose(app: Any) -> None:
    handler = getattr(app.state, "record_handler", None)
    if handler is not None and hasattr(handler, "aclose"):
        await handler.aclose()
