"""Serve the official SDK's requests to given base URLs from an in-process `Emulator` (respx; no port).

    with Emulator() as emu, intercept(emu):
        openai.OpenAI().models.list()        # → the emulator, not api.openai.com

    with offline_openai() as emu:            # the same, with a fresh emulator (mockserver.testing)
        ...

Requests are caught at the HTTP-core layer of the library the SDK is built on — httpcore2 under httpx2
(openai>=3, through the `httpcore2` respx mocker of pytest-httpx2) and httpcore under httpx (openai<3) —
so clients built anywhere, with any options, are served. Strict: a request to any other URL through that
library raises `respx.models.AllMockedAssertionError`, so nothing reaches the network.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from collections.abc import Iterable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

__all__ = ["intercept", "sdk_library", "Interception", "BaseURL", "DEFAULT_BASE_URLS", "SDK_CHOICES"]

DEFAULT_BASE_URLS = ("https://api.openai.com/v1",)
SDK_CHOICES = ("auto", "all", "httpx2", "httpx")
_MOCKER_FOR = {"httpx2": "httpcore2", "httpx": "httpcore"}
_CORE_FOR = {"httpx2": "httpcore2", "httpx": "httpcore"}
_DEFAULT_PORTS = {"http": 80, "https": 443}
_EMULATOR_PREFIX = "/v1"


@dataclass(frozen=True)
class BaseURL:
    """One intercepted base URL: requests under `prefix` on scheme://host:port go to the emulator's /v1."""

    scheme: str
    host: str
    port: int
    prefix: str

    @classmethod
    def parse(cls, url: str) -> BaseURL:
        parts = urlsplit(url.strip())
        if parts.scheme not in _DEFAULT_PORTS or not parts.hostname:
            raise ValueError(f"not an http(s) base URL: {url!r}")
        return cls(parts.scheme, parts.hostname.lower(), parts.port or _DEFAULT_PORTS[parts.scheme],
                   parts.path.rstrip("/"))

    def emulator_path(self, request: Any) -> str | None:
        """The emulator path (with query) for an httpx request under this base URL, else None."""
        url = request.url
        if (url.scheme, url.host, url.port or _DEFAULT_PORTS.get(url.scheme)) != (self.scheme, self.host,
                                                                                 self.port):
            return None
        raw = url.raw_path.decode("ascii")
        path, sep, query = raw.partition("?")
        if path != self.prefix and not path.startswith(self.prefix + "/"):
            return None
        return _EMULATOR_PREFIX + path[len(self.prefix):] + sep + query


@dataclass
class Interception:
    """What `intercept` yields: the emulator, the base URLs it serves and the respx routers (for `.calls`)."""

    emulator: Any
    base_urls: tuple[BaseURL, ...]
    routers: list[Any] = field(default_factory=list)

    @property
    def served(self) -> int:
        """How many requests the emulator answered."""
        return sum(route.call_count for router in self.routers for route in router.routes)


@contextmanager
def intercept(emulator: Any, base_urls: Iterable[str] = DEFAULT_BASE_URLS, *,
              sdk: str = "auto") -> Iterator[Interception]:
    """Route SDK requests for `base_urls` (plus OPENAI_BASE_URL, if set) to `emulator`; strict for the rest.

    `sdk`: "auto" (the HTTP library of the installed openai), "all" (every one installed), "httpx2"
    (openai>=3) or "httpx" (openai<3)."""
    targets = _targets(base_urls)
    result = Interception(emulator, targets)
    with ExitStack() as stack:
        for lib in _libraries(sdk):
            router = stack.enter_context(_mock(lib, _side_effect(emulator, targets)))
            _consult_first(router, _MOCKER_FOR[lib])
            result.routers.append(router)
        yield result


# --- plumbing ------------------------------------------------------------------------------------------


def _targets(base_urls: Iterable[str]) -> tuple[BaseURL, ...]:
    urls = [base_urls] if isinstance(base_urls, str) else list(base_urls)
    env = os.environ.get("OPENAI_BASE_URL")
    if env:
        urls.append(env)
    out: list[BaseURL] = []
    for url in urls:
        parsed = BaseURL.parse(url)
        if parsed not in out:
            out.append(parsed)
    return tuple(out)


def _libraries(sdk: str) -> list[str]:
    if sdk not in SDK_CHOICES:
        raise ValueError(f"sdk must be one of {', '.join(SDK_CHOICES)}; got {sdk!r}")
    installed = [lib for lib in ("httpx2", "httpx") if _installed(lib) and _installed(_CORE_FOR[lib])]
    if sdk == "all":
        return installed
    if sdk == "auto":
        sdk = sdk_library() or "all"
        return installed if sdk == "all" else [sdk]
    if sdk not in installed:
        raise RuntimeError(f"cannot intercept {sdk}: it (or {_CORE_FOR[sdk]}) is not installed")
    return [sdk]


def _installed(module: str) -> bool:
    return module in sys.modules or importlib.util.find_spec(module) is not None


def sdk_library() -> str | None:
    """The HTTP library the installed openai SDK is built on (httpx2 from 3.0), None without the SDK."""
    try:
        import openai
    except ImportError:
        return None
    return "httpx2" if int(openai.__version__.split(".")[0]) >= 3 else "httpx"


def _mock(lib: str, side_effect: Any) -> Any:
    import respx

    name = _MOCKER_FOR[lib]
    if name == "httpcore2":
        _register_httpcore2_mocker()
    router = respx.mock(using=name, assert_all_mocked=True, assert_all_called=False)
    router.route(name="emulator").mock(side_effect=side_effect)
    return router


def _consult_first(router: Any, mocker_name: str) -> None:
    """respx asks routers in the order they started; the innermost interception should win."""
    from respx.mocks import Mocker

    routers = Mocker.registry[mocker_name].routers
    if router in routers:
        routers.remove(router)
        routers.insert(0, router)


def _register_httpcore2_mocker() -> None:
    """Make respx's `httpcore2` mocker available: pytest-httpx2's when installed, else an equivalent."""
    from respx.mocks import HTTPCoreMocker, Mocker

    if "httpcore2" in Mocker.registry:
        return
    if _installed("pytest_httpx2"):
        importlib.import_module("pytest_httpx2._plugin")
        return

    class HTTPCore2Mocker(HTTPCoreMocker):
        name = "httpcore2"
        targets = [
            "httpcore2._sync.connection.HTTPConnection",
            "httpcore2._sync.connection_pool.ConnectionPool",
            "httpcore2._sync.http_proxy.HTTPProxy",
            "httpcore2._async.connection.AsyncHTTPConnection",
            "httpcore2._async.connection_pool.AsyncConnectionPool",
            "httpcore2._async.http_proxy.AsyncHTTPProxy",
        ]


def _side_effect(emulator: Any, targets: tuple[BaseURL, ...]) -> Any:
    """A respx side effect: None (no match → strict error) off-target, else the emulator's answer —
    awaited through `bridge.acall` when respx resolves asynchronously, `bridge.call` otherwise."""

    def serve(request: Any) -> Any:
        path = next((p for t in targets if (p := t.emulator_path(request)) is not None), None)
        if path is None:
            return None
        url = f"{request.url.scheme}://{request.url.netloc.decode('ascii')}{path}"
        headers = [(k.lower(), v) for k, v in request.headers.raw]
        if _resolving_async():
            return _aserve(emulator, request, url, headers)
        return _response(request, *emulator.bridge.call(request.method, url, headers, request.content))

    return serve


async def _aserve(emulator: Any, request: Any, url: str, headers: list[tuple[bytes, bytes]]) -> Any:
    return _response(request, *await emulator.bridge.acall(request.method, url, headers, request.content))


def _response(request: Any, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> Any:
    import httpx  # respx speaks httpx (1.x) models whichever library is being mocked

    return httpx.Response(status, headers=headers, content=body, request=request)


def _resolving_async() -> bool:
    """True when called under respx's `Router.aresolve` (an async client); sync otherwise.

    respx calls side effects the same way on both paths, so the caller's frame tells them apart; if
    respx ever changes shape this answers False and the (thread-safe) blocking call is used."""
    from respx.router import Router

    code = Router.aresolve.__code__
    frame = sys._getframe(1)
    for _ in range(16):
        if frame is None:
            return False
        if frame.f_code is code:
            return True
        frame = frame.f_back
    return False
