"""Dependency aliases for handlers: the services, the request's database session and the authenticated tenant."""

from __future__ import annotations

import asyncio
import inspect
import typing
from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any, TypeVar

from fastapi import Depends
from sqlalchemy.exc import OperationalError
from sqlmodel import Session
from starlette.requests import Request
from starlette.routing import Route

from mockserver.db import Database
from mockserver.services import Services
from mockserver.tenancy import Tenant

T = TypeVar("T")

__all__ = ["ServicesDep", "SessionDep", "TenantDep", "CallerDep", "get_services", "get_session", "get_tenant",
           "get_caller", "authenticate", "control_guard", "ControlGuard", "off_loop", "write_on_loop", "fast_route"]


async def get_services(request: Request) -> Services:
    return request.app.state.services


async def get_tenant(request: Request) -> Tenant:
    return authenticate(request)


def authenticate(request: Request) -> Tenant:
    """The tenant of the request's bearer key, or the real 401 (callable inline from hot handlers).

    Resolved tenants are cached per Authorization header value in `svc.caches.tenants` (a key ring never changes
    while the app lives; deriving a tenant hashes the key, ~10 µs a request); failures are not cached.
    """
    svc = request.app.state.services
    header = request.headers.get("authorization")
    tenants = svc.caches.tenants
    tenant = tenants.get(header)
    if tenant is None:
        tenant = tenants[header] = svc.keys.authenticate(header)
    request.state.tenant = tenant
    return tenant


async def get_session(request: Request) -> AsyncIterator[Session]:
    """The request's session: it commits when the handler returns (before the response is sent: a client
    that reads after a write sees it), rolls back when the handler raises. Sessions begin lazily, so a
    handler that streams a body in before it touches the session holds no transaction meanwhile."""
    with request.app.state.services.db.session() as s:
        yield s


async def get_caller(request: Request) -> str | None:
    """The control plane's caller: the tenant of its bearer key when it sends one (acts on that tenant),
    else None (acts on every tenant)."""
    header = request.headers.get("authorization")
    return request.app.state.services.keys.authenticate(header).key if header else None


async def off_loop(s: Session, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
    """`fn(s, *args, **kwargs)` on a worker thread, committed there: work that may write (a derived file
    settling its size) never holds SQLite's write lock across an await, where a handler on the event loop
    that writes next would block the loop waiting for a lock only the loop can release."""
    def unit() -> T:
        result = fn(s, *args, **kwargs)
        s.commit()
        return result
    return await asyncio.to_thread(unit)


async def write_on_loop(db: Database, fn: Callable[[Any], T], /) -> T:
    """`fn(conn)` in a raw transaction (`Database.raw_transaction`: prebuilt statements) begun here on the event loop,
    one that does not wait for a lock another connection holds (`wait=False`: SQLite's write lock, a PostgreSQL row
    lock); when one is held (OperationalError), again on a worker thread in one that waits there. `fn` may run twice:
    it must draw nothing it would draw differently the second time (ids.IdTape) and publish nothing twice."""
    try:
        with db.raw_transaction(wait=False) as conn:
            return fn(conn)
    except OperationalError:
        pass

    def patient() -> T:
        with db.raw_transaction() as conn:
            return fn(conn)
    return await asyncio.to_thread(patient)


ServicesDep = Annotated[Services, Depends(get_services)]
CallerDep = Annotated[str | None, Depends(get_caller)]
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
"""The request owns the transaction (scope "function": it ends when the handler returns, so nothing is held
while a streamed response is sent); store functions take it."""
TenantDep = Annotated[Tenant, Depends(get_tenant)]


async def control_guard(request: Request) -> None:
    """The /_mock control plane: loopback clients only unless --control-plane any; off disables it."""
    from contracts import errors

    mode = request.app.state.services.settings.control_plane
    client = request.client.host if request.client else ""
    if mode == "off" or (mode == "loopback" and client not in ("127.0.0.1", "::1", "localhost", "testclient")):
        raise errors.PermissionDenied("The emulator control plane is only served to loopback clients "
                                      "(start with --control-plane any to allow others).", code="control_plane_denied")


ControlGuard = Depends(control_guard)


def fast_route(path: str, endpoint: Callable[..., Any], methods: list[str]) -> Route:
    """A FastAPI handler also served as a plain Starlette route (app.create_app puts these ahead of every
    other route), its parameters filled as FastAPI would: `Request`, `ServicesDep`, `TenantDep`, `SessionDep`
    (committed when the handler returns, rolled back when it raises), path parameters, and optional string
    query parameters. FastAPI's per-request machinery (dependency solving, its request wrapper, matching
    through the included routers) costs more than a lifecycle call's own work; the FastAPI route stays for
    the OpenAPI schema. A parameter of another kind is refused here, at start-up."""
    hints = typing.get_type_hints(endpoint, include_extras=True)
    fill: list[tuple[str, str, Any]] = []   # (parameter, how, default)
    for name, param in inspect.signature(endpoint).parameters.items():
        hint = hints.get(name)
        dependency = next((m.dependency for m in getattr(hint, "__metadata__", ()) if hasattr(m, "dependency")), None)
        how = ("request" if hint is Request else _FILLED_BY.get(dependency) if dependency else
               "path" if f"{{{name}}}" in path else
               "query" if param.default is None or isinstance(param.default, str) else None)
        if how is None:
            raise TypeError(f"{endpoint.__name__}: parameter {name!r} cannot be filled by fast_route")
        fill.append((name, how, param.default))
    needs_session = any(how == "session" for _, how, _ in fill)

    async def handle(request: Request) -> Any:
        kwargs: dict[str, Any] = {}
        for name, how, default in fill:
            kwargs[name] = (request if how == "request" else request.app.state.services if how == "services" else
                            authenticate(request) if how == "tenant" else request.path_params[name] if how == "path"
                            else request.query_params.get(name, default) if how == "query" else None)
        if not needs_session:
            return await endpoint(**kwargs)
        with request.app.state.services.db.session() as s:
            kwargs.update((name, s) for name, how, _ in fill if how == "session")
            return await endpoint(**kwargs)

    route = Route(path, handle, methods=methods, include_in_schema=False)
    route.methods.discard("HEAD")   # as the FastAPI route: a GET route does not answer HEAD
    return route


_FILLED_BY = {get_services: "services", get_tenant: "tenant", get_session: "session"}
