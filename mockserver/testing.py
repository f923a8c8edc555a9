"""In-process emulator for tests: the official SDK talks to a fresh app through a transport, no port.

    with Emulator() as emu:
        client = emu.client()            # openai.OpenAI wired to this emulator
        client.files.create(...)

`Emulator.intercept()` (see mockserver.intercept) additionally routes every request the SDK sends to
https://api.openai.com/v1 — or any base URL — to the emulator, for code that builds its own client.
"""

from __future__ import annotations

import _thread
import asyncio
import contextlib
import math
import selectors
import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Self
from urllib.parse import urlsplit

from mockserver.app import create_app
from mockserver.intercept import DEFAULT_BASE_URLS, intercept, sdk_library
from mockserver.settings import Settings

__all__ = ["Emulator", "ServedEmulator", "free_port", "offline_openai", "AsgiBridge", "ControlPlane", "DEFAULT_KEY"]

DEFAULT_KEY = "sk-test-emulator"


class _ParkingSelector(selectors.DefaultSelector):
    """The bridge loop's selector. When the bridge's own thread (`owner`) finds the loop idle — nothing ready, no
    readiness pending — it stops the loop (`run_forever` returns) instead of blocking inside it, and then parks
    (`park`) on a second selector that mirrors every registration of this one: it wakes when a descriptor the loop
    watches is ready, when the loop's next timer is due, or — while no caller runs the loop — when a thread calls
    `call_soon_threadsafe` (the loop's self-pipe). While a caller runs the loop (`hold`), the self-pipe is left out
    of the parked thread's selector: the caller's own select takes those wake-ups (a worker thread handing back
    its result), and the parked thread sleeps on instead of waking to wait for the loop. Any thread but the
    owner selects as usual."""

    owner: int | None = None
    loop: asyncio.AbstractEventLoop | None = None
    idle_timeout: float | None = None
    deadline = math.inf   # when the parked loop thread wakes by itself (loop.time())
    pipe: int | None = None   # the loop's self-pipe, when it can be told apart (see `attach`)

    def __init__(self) -> None:
        super().__init__()
        self._parked = selectors.DefaultSelector()

    def attach(self, loop: asyncio.AbstractEventLoop) -> None:
        """The loop this selector serves. Its self-pipe is read from `_ssock` (a CPython SelectorEventLoop
        attribute; `tests/unit/test_bridge.py` is its canary): without it, or on a selector that cannot be changed
        while another thread waits on it, the parked thread keeps watching the self-pipe (correct; it only wakes
        more often)."""
        self.loop = loop
        sock = getattr(loop, "_ssock", None)
        if sock is not None and type(self._parked).__name__ in ("EpollSelector", "KqueueSelector"):
            self.pipe = sock.fileno()

    def register(self, fileobj, events, data=None):  # type: ignore[no-untyped-def]
        key = super().register(fileobj, events, data)
        self._parked.register(key.fd, events)
        return key

    def unregister(self, fileobj):  # type: ignore[no-untyped-def]
        key = super().unregister(fileobj)
        with contextlib.suppress(KeyError, ValueError, OSError):
            self._parked.unregister(key.fd)
        return key

    def modify(self, fileobj, events, data=None):  # type: ignore[no-untyped-def]
        key = super().modify(fileobj, events, data)
        with contextlib.suppress(KeyError, ValueError, OSError):
            self._parked.modify(key.fd, events)
        return key

    def close(self) -> None:
        self._parked.close()
        super().close()

    def select(self, timeout: float | None = None) -> list:
        if timeout != 0 and threading.get_ident() == self.owner:
            ready = super().select(0)
            if ready:
                return ready
            self.idle_timeout = timeout
            self.deadline = math.inf if timeout is None else self.loop.time() + timeout
            self.loop.stop()   # the loop finishes this pass (nothing ready) and returns from run_forever
            return []
        return super().select(timeout)

    def park(self, timeout: float | None) -> None:
        """Sleep outside the loop (see the class)."""
        self._parked.select(timeout)

    def hold(self, held: bool) -> None:
        """A caller starts (True) or stops (False) running the loop: the self-pipe leaves or rejoins the parked
        thread's selector (a byte left in it on rejoining wakes the parked thread at once)."""
        if self.pipe is not None:
            with contextlib.suppress(KeyError, ValueError, OSError):
                if held:
                    self._parked.unregister(self.pipe)
                else:
                    self._parked.register(self.pipe, selectors.EVENT_READ)


_BRIEF = 0.002   # how long a call waits for the loop thread to finish a pass before handing its request over


def _nothing() -> None:
    pass


class AsgiBridge:
    """Runs an ASGI app (with its lifespan) on a private event loop; `call` and `acall` are thread-safe.

    The loop has a thread of its own that runs it whenever anything is ready (background tasks such as batch
    runners, timers, work handed over by worker threads) and parks outside it when it is idle. A synchronous
    `call` made while the loop is parked runs the request on the loop in the calling thread
    (`run_until_complete`): no hand-over to the loop thread and back, which cost two thread wake-ups per call —
    the larger part of an in-process call's wall time on a busy machine. When the loop is busy in its own
    thread (or in another caller's), or the caller runs an event loop of its own, the request is handed to the
    loop as before and the caller waits. `_driver` is held by whichever thread runs the loop."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self._selector = _ParkingSelector()
        self.loop = asyncio.SelectorEventLoop(self._selector)
        self._selector.attach(self.loop)
        self._driver = threading.Lock()
        self._closing = False
        self.thread = threading.Thread(target=self._run, name="emulator-loop", daemon=True)
        self.thread.start()
        self._lifespan_done: asyncio.Event | None = None
        self._submit(self._startup()).result()

    def _run(self) -> None:
        self._selector.owner = threading.get_ident()
        while not self._closing:
            with self._driver:
                if self._closing:
                    return
                self._selector.idle_timeout = None
                self.loop.run_forever()
                timeout = self._selector.idle_timeout
            if not self._closing:
                self._selector.park(timeout)

    def _submit(self, coro: Any) -> Future:
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    async def _startup(self) -> None:
        started, self._lifespan_done = asyncio.Event(), asyncio.Event()
        queue: asyncio.Queue = asyncio.Queue()
        await queue.put({"type": "lifespan.startup"})

        async def receive() -> dict:
            return await queue.get()

        async def send(message: dict) -> None:
            if message["type"].startswith("lifespan.startup"):
                started.set()
            elif message["type"].startswith("lifespan.shutdown"):
                self._lifespan_done.set()

        self._lifespan_queue = queue
        self._lifespan_task = asyncio.ensure_future(self.app({"type": "lifespan", "asgi": {"version": "3.0"},
                                                              "state": {}}, receive, send))
        await started.wait()

    async def _shutdown(self) -> None:
        await self._lifespan_queue.put({"type": "lifespan.shutdown"})
        await asyncio.wait_for(self._lifespan_done.wait(), 5)

    def call(self, method: str, url: str, headers: list[tuple[bytes, bytes]], body: bytes
             ) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        if self._driver.acquire(timeout=_BRIEF):
            try:
                if not _loop_running():
                    self._selector.hold(True)
                    return self.loop.run_until_complete(asgi_request(self.app, method, url, headers, body))
            finally:
                self._selector.hold(False)
                # Read while the loop is still ours: once released, the loop thread may run it and change
                # the very lists `_work_before` reads.
                wake = _work_before(self.loop, self._selector.deadline)
                self._driver.release()
                if wake:
                    self.loop.call_soon_threadsafe(_nothing)   # the loop thread looks again
        return self._handed_over(asgi_request(self.app, method, url, headers, body))

    def _handed_over(self, coro: Any) -> Any:
        """`coro` run by whichever thread runs the loop; this one waits on a plain lock."""
        done = _thread.allocate_lock()
        done.acquire()
        box: list[asyncio.Task] = []

        def start() -> None:
            box.append(self.loop.create_task(coro))
            box[0].add_done_callback(lambda _: done.release())

        self.loop.call_soon_threadsafe(start)
        done.acquire()
        return box[0].result()

    async def acall(self, method: str, url: str, headers: list[tuple[bytes, bytes]], body: bytes
                    ) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        return await asyncio.wrap_future(self._submit(asgi_request(self.app, method, url, headers, body)))

    def close(self) -> None:
        try:
            self._submit(self._shutdown()).result(5)
        finally:
            self._closing = True
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(5)
            self.loop.close()


def _work_before(loop: asyncio.AbstractEventLoop, deadline: float) -> bool:
    """Whether `loop` has callbacks ready, or a timer due before `deadline`. Reads two attributes of CPython's
    BaseEventLoop (`_ready`, `_scheduled`; `tests/unit/test_bridge.py` is their canary); without them the answer
    is always yes, which is correct, only slower (the loop thread wakes after every call)."""
    ready, scheduled = getattr(loop, "_ready", None), getattr(loop, "_scheduled", None)
    if ready is None or scheduled is None:
        return True
    return bool(ready) or (bool(scheduled) and scheduled[0].when() < deadline)


def _loop_running() -> bool:
    """Whether this thread is running an event loop already (run_until_complete would refuse)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


async def asgi_request(app: Any, method: str, url: str, headers: list[tuple[bytes, bytes]], body: bytes
                       ) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    """One HTTP exchange with an ASGI app, fully buffered."""
    parts = urlsplit(url)
    host = parts.hostname or "testserver"
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method.upper(),
             "scheme": parts.scheme or "http", "path": parts.path or "/", "raw_path": (parts.path or "/").encode(),
             "query_string": parts.query.encode(), "root_path": "", "headers": headers,
             "client": ("127.0.0.1", 50000), "server": (host, parts.port or 80), "state": {}}
    sent = False
    status, out_headers, chunks = 500, [], []
    done = asyncio.Event()

    async def receive() -> dict:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await done.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict) -> None:
        nonlocal status, out_headers
        if message["type"] == "http.response.start":
            status, out_headers = message["status"], list(message.get("headers", []))
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                done.set()

    try:
        await app(scope, receive, send)
    finally:
        done.set()
    return status, out_headers, b"".join(chunks)


def _transports(bridge: AsgiBridge) -> dict[str, Callable[[], Any]]:
    """Transport factories for whichever HTTP libraries are installed (httpx2 for openai>=3, httpx below)."""
    out: dict[str, Callable[[], Any]] = {}
    for lib_name in ("httpx2", "httpx"):
        try:
            lib = __import__(lib_name)
        except ImportError:
            continue
        out[lib_name] = _make_transport_classes(lib, bridge)
    return out


def _make_transport_classes(lib: Any, bridge: AsgiBridge) -> Callable[[bool], Any]:
    def convert(request: Any) -> tuple[str, str, list[tuple[bytes, bytes]]]:
        return request.method, str(request.url), [(k.lower(), v) for k, v in request.headers.raw]

    class Sync(lib.BaseTransport):
        def handle_request(self, request: Any) -> Any:
            method, url, headers = convert(request)
            status, h, body = bridge.call(method, url, headers, request.read())
            return lib.Response(status, headers=h, content=body, request=request)

    class Async(lib.AsyncBaseTransport):
        async def handle_async_request(self, request: Any) -> Any:
            method, url, headers = convert(request)
            status, h, body = await bridge.acall(method, url, headers, await request.aread())
            return lib.Response(status, headers=h, content=body, request=request)

    return lambda is_async=False: Async() if is_async else Sync()


class ControlPlane:
    """Conveniences over `/_mock/*` for any harness whose `control(path, payload)` posts to it."""

    def control(self, path: str, payload: dict | None = None) -> Any:  # pragma: no cover - overridden
        raise TypeError(f"{type(self).__name__} must define control()")

    def advance(self, seconds: float) -> Any:
        return self.control("clock/advance", {"seconds": seconds})

    def set_transitions(self, transitions: str, time_scale: float | None = None) -> Any:
        payload: dict[str, Any] = {"transitions": transitions}
        if time_scale is not None:
            payload["time_scale"] = time_scale
        return self.control("policy", payload)

    policy = set_transitions

    def reset(self) -> Any:
        return self.control("reset")


class Emulator(ControlPlane):
    """A fresh emulator with its own data dir; `client()` returns an SDK client wired to it."""

    def __init__(self, settings: Settings | None = None, *, transitions: str = "immediate",
                 wall: Callable[[], float] = time.time, **overrides: Any) -> None:
        self._tmp = None
        if settings is None:
            self._tmp = tempfile.mkdtemp(prefix="mockserver-")
            overrides.setdefault("data_dir", Path(self._tmp))
            overrides.setdefault("database_url", f"sqlite:///{Path(self._tmp) / 'state.db'}")
            overrides.setdefault("durable", False)  # throwaway state: no fsync
            settings = Settings(transitions=transitions, **overrides)
        self.settings = settings
        self.app = create_app(settings, wall=wall)
        self.services = self.app.state.services
        self.bridge = AsgiBridge(self.app)
        self._factories = _transports(self.bridge)
        self.base_url = "http://emulator.test/v1"

    # --- SDK clients ---------------------------------------------------------------------------
    def transport(self, lib: str | None = None, *, is_async: bool = False) -> Any:
        lib = lib or _sdk_http_lib()
        return self._factories[lib](is_async)

    def client(self, api_key: str = DEFAULT_KEY, **kwargs: Any) -> Any:
        import openai

        lib = __import__(_sdk_http_lib())
        http = lib.Client(transport=self.transport(), base_url=self.base_url)
        return openai.OpenAI(api_key=api_key, base_url=self.base_url, http_client=http, **kwargs)

    def async_client(self, api_key: str = DEFAULT_KEY, **kwargs: Any) -> Any:
        import openai

        lib = __import__(_sdk_http_lib())
        http = lib.AsyncClient(transport=self.transport(is_async=True), base_url=self.base_url)
        return openai.AsyncOpenAI(api_key=api_key, base_url=self.base_url, http_client=http, **kwargs)

    def request(self, method: str, path: str, *, api_key: str | None = DEFAULT_KEY, json: Any = None,
                body: bytes = b"", headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
        """A raw HTTP exchange (for curl-shaped tests): returns status, headers, body."""
        import orjson

        h = {k.lower(): v for k, v in (headers or {}).items()}
        if api_key is not None:
            h.setdefault("authorization", f"Bearer {api_key}")
        if json is not None:
            body = orjson.dumps(json)
            h.setdefault("content-type", "application/json")
        return self._send(method, path, h, body)

    def _send(self, method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, str], bytes]:
        status, raw, content = self.bridge.call(method, "http://emulator.test" + path,
                                                [(k.encode(), v.encode()) for k, v in headers.items()], body)
        return status, {k.decode(): v.decode() for k, v in raw}, content

    def intercept(self, base_urls: Iterable[str] = DEFAULT_BASE_URLS, *, sdk: str = "auto") -> Any:
        """Serve every SDK request to `base_urls` from this emulator (respx; nothing reaches the network)."""
        return intercept(self, base_urls, sdk=sdk)

    # --- control --------------------------------------------------------------------------------
    def control(self, path: str, payload: dict | None = None) -> Any:
        import orjson

        status, _, body = self.request("POST", f"/_mock/{path.lstrip('/')}", json=payload or {})
        if status >= 400:
            raise RuntimeError(f"control call {path} failed: {status} {body!r}")
        return orjson.loads(body) if body else None

    def close(self) -> None:
        self.bridge.close()
        self.services.caches.close()
        self.services.db.dispose()
        if self._tmp:
            shutil.rmtree(self._tmp, ignore_errors=True)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port free on `host` right now (the OS picks it)."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


class ServedEmulator(Emulator):
    """An `Emulator` served by uvicorn over real loopback HTTP on a free port, in a thread of this process:
    for code (or a browser) that needs a URL. `services` stays reachable as with `Emulator`."""

    def __init__(self, settings: Settings | None = None, *, transitions: str = "immediate",
                 wall: Callable[[], float] = time.time, **overrides: Any) -> None:
        import uvicorn

        super().__init__(settings, transitions=transitions, wall=wall, **overrides)
        self.port = free_port()
        self.origin = f"http://127.0.0.1:{self.port}"
        self.base_url = f"{self.origin}/v1"
        self.server = uvicorn.Server(uvicorn.Config(self.app, host="127.0.0.1", port=self.port,
                                                    log_level="error", lifespan="on"))
        self.thread = threading.Thread(target=self.server.run, name="emulator-http", daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                self.close()
                raise RuntimeError(f"uvicorn did not start on port {self.port}")
            time.sleep(0.01)

    def client(self, api_key: str = DEFAULT_KEY, **kwargs: Any) -> Any:
        import openai

        return openai.OpenAI(api_key=api_key, base_url=self.base_url, **kwargs)

    def async_client(self, api_key: str = DEFAULT_KEY, **kwargs: Any) -> Any:
        import openai

        return openai.AsyncOpenAI(api_key=api_key, base_url=self.base_url, **kwargs)

    def _send(self, method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, str], bytes]:
        lib = __import__(_sdk_http_lib())
        r = lib.request(method, self.origin + path, content=body, headers=headers, timeout=30)
        return r.status_code, dict(r.headers), r.content

    def close(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)
        super().close()


@contextmanager
def offline_openai(base_urls: Iterable[str] = DEFAULT_BASE_URLS, *, sdk: str = "auto",
                   **emulator_kwargs: Any) -> Iterator[Emulator]:
    """A fresh `Emulator(**emulator_kwargs)` serving the SDK's requests to `base_urls`; yields it."""
    with Emulator(**emulator_kwargs) as emulator, intercept(emulator, base_urls, sdk=sdk):
        yield emulator


def _sdk_http_lib() -> str:
    lib = sdk_library()
    if lib is None:
        raise RuntimeError("the openai SDK is not installed (pip install openai)")
    return lib
