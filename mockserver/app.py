"""`create_app(settings)`: the emulator assembled explicitly — services, routers, error path, headers."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.routing import Route

from mockserver import __version__, record
from mockserver.errors import install_error_handlers
from mockserver.files.storage import DataDirGuard
from mockserver.guard import BrowserGuard, BrowserGuardMiddleware
from mockserver.hot import EmulatorAPI, Endpoint, HotPath
from mockserver.http import HeadersMiddleware, JSONResponse
from mockserver.migrate import named_keys
from mockserver.services import Services
from mockserver.settings import Settings

__all__ = ["create_app"]

# chat first: routes are matched in order (no paths overlap); its hot endpoints skip routing (mockserver.hot)
ROUTERS = ("mockserver.chat.routes", "mockserver.files.routes", "mockserver.files.upload_routes",
           "mockserver.models.routes", "mockserver.jobs.routes", "mockserver.control.routes",
           "mockserver.control.fixtures", "mockserver.control.dashboard", "mockserver.control.docs",
           "mockserver.responses.router", "mockserver.batches.router")


def _include_routers(app: FastAPI) -> tuple[dict[str, Endpoint], list[Route]]:
    """Every router's routes; returns the hot endpoints (path → handler) of those that have some, and the fast
    routes (deps.fast_route), which are also the router's first routes."""
    import importlib

    hot: dict[str, Endpoint] = {}
    fast: list[Route] = []
    for name in ROUTERS:  # a missing module is an error, never a silently absent API
        module = importlib.import_module(name)
        app.include_router(module.router)
        hot.update(getattr(module, "hot_routes", dict)())
        routes = getattr(module, "fast_routes", list)()   # matched first (in ROUTERS order): see deps.fast_route
        app.router.routes[len(fast):len(fast)] = routes
        fast += routes
    return hot, fast


def _sweep(services: Services) -> None:
    """Expire overdue uploads, then remove every stored file no live row points at (deleted files'
    bytes a read-only disk kept, parts of finished uploads, crash leftovers: see FileStore.sweep)."""
    from mockserver.files.uploads import expire_due

    with services.db.session() as s:
        expire_due(s, services)
    with services.db.session() as s:
        known = named_keys(s)
    services.files.sweep(known)


def create_app(settings: Settings | None = None, *, wall: Callable[[], float] = time.time,
               services: Services | None = None) -> FastAPI:
    """A new emulator with its own state; nothing is shared between two apps."""
    settings = settings or Settings.from_env()
    services = services or Services.build(settings, wall=wall)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        _sweep(services)
        yield
        await record.aclose(app)
        services.files.close()
        services.caches.close()

    app = EmulatorAPI(title="OpenAI fine-tuning API emulator", version=__version__, lifespan=lifespan,
                  docs_url=None, redoc_url=None,   # served offline by routers/docs.py
                  default_response_class=JSONResponse, openapi_tags=[
                      {"name": "control", "description": "Emulator control plane under /_mock (not OpenAI's API)"}])
    app.state.services = services
    install_error_handlers(app)
    hot, fast = _include_routers(app)
    record.install(app, settings)     # innermost: the guards and headers around it see proxied/replayed requests too
    if getattr(app.state, "record_handler", None) is None:   # a proxy or replay sees every request
        app.hot = HotPath(hot, new_request_id=services.ids.request_id,
                          guard=BrowserGuard(allowed_hosts=settings.allowed_hosts), fast=fast,
                          check_alive=services.files.check_alive)
    app.add_middleware(DataDirGuard, store=services.files)
    app.add_middleware(BrowserGuardMiddleware, allowed_hosts=settings.allowed_hosts)
    app.add_middleware(HeadersMiddleware, new_request_id=services.ids.request_id)
    return app
