"""The HTTP benchmark's two servers without sockets: the same keep-alive POST driven through uvicorn's HTTP
protocol (the class each server uses: h11 or httptools, `--http`) on an in-memory transport, on one event loop,
timed and optionally profiled. What it shows is the Python work per request each server does, the protocol
included, without the kernel, the load generator or a neighbour taking the core.

    python -m bench.h11_profile 5000              # µs per request: bare endpoint, emulator, their ratio (3 rounds)
    python -m bench.h11_profile 5000 --profile    # cProfile of the emulator's requests (and the bare ones)
    python -m bench.h11_profile 20000 --only protocol   # the protocol alone: the SDK's GET head, a trivial app
    python -m bench.h11_profile 20000 --only protocol --http h11   # … on the h11 protocol (default: what
                                                  # `mockserver serve` picks, httptools when installed)
    py-spy record -r 2000 -f raw -o h11.txt -- python -m bench.h11_profile 20000 --only ours   # one server

The emulator runs as `mockserver serve --transitions immediate` builds it (SQLite and blobs in a temporary data
dir); the bare app is bench.bare's. Not part of `make bench` (a diagnostic, for reading a profile).
"""

from __future__ import annotations

import asyncio
import cProfile
import gc
import json
import pstats
import statistics
import sys
import tempfile
import time

from bench.common import WORK


class _Transport(asyncio.Transport):
    """Collects what the protocol writes; `done` resolves when a whole response (by Content-Length) is in."""

    def __init__(self) -> None:
        super().__init__()
        self.buf = bytearray()
        self.done: asyncio.Future | None = None
        self.closing = False

    def get_extra_info(self, name, default=None):
        return {"sockname": ("127.0.0.1", 8000), "peername": ("127.0.0.1", 50000)}.get(name, default)

    def write(self, data) -> None:
        self.buf += data
        head, sep, body = self.buf.partition(b"\r\n\r\n")
        if not sep:
            return
        length = next(int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                      if line.lower().startswith(b"content-length:"))
        if len(body) >= length and self.done is not None and not self.done.done():
            self.done.set_result(bytes(self.buf))
            self.buf.clear()

    def is_closing(self) -> bool:
        return self.closing

    def close(self) -> None:
        self.closing = True

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


def _protocol(app, protocol_class):
    from uvicorn import Config
    from uvicorn.server import ServerState

    config = Config(app, http=protocol_class, log_level="warning", timeout_keep_alive=15)
    config.load()
    proto = protocol_class(config=config, server_state=ServerState(), app_state={})
    transport = _Transport()
    proto.connection_made(transport)
    return proto, transport


async def _requests(proto, transport, request: bytes, n: int) -> list[float]:
    loop = asyncio.get_running_loop()
    out = []
    for _ in range(n):
        transport.done = loop.create_future()
        t0 = time.perf_counter()
        proto.data_received(request)
        response = await transport.done
        out.append((time.perf_counter() - t0) * 1e6)
        if not response.startswith(b"HTTP/1.1 200"):
            raise RuntimeError(response[:500])
    return out


# What the SDK sends for a retrieve (its 16 headers) and what a trivial app answers with the API's usual headers.
SDK_GET = (b"GET /v1/fine_tuning/jobs/ftjob-abc HTTP/1.1\r\nHost: 127.0.0.1:8000\r\nAccept-Encoding: gzip, deflate\r\n"
           b"Connection: keep-alive\r\nAccept: application/json\r\nContent-Type: application/json\r\n"
           b"User-Agent: OpenAI/Python 3.0.0\r\nX-Stainless-Lang: python\r\nX-Stainless-Package-Version: 3.0.0\r\n"
           b"X-Stainless-OS: Linux\r\nX-Stainless-Arch: x64\r\nX-Stainless-Runtime: CPython\r\n"
           b"X-Stainless-Runtime-Version: 3.11.9\r\nAuthorization: Bearer sk-bench-lifecycle\r\n"
           b"X-Stainless-Async: false\r\nx-stainless-retry-count: 0\r\nx-stainless-read-timeout: 600\r\n\r\n")
_TRIVIAL_HEADERS = [(b"content-type", b"application/json"), (b"content-length", b"2"),
                    (b"x-request-id", b"req_0123456789abcdef01234567"), (b"openai-version", b"2020-10-01"),
                    (b"openai-processing-ms", b"1"), (b"openai-organization", b"org-x"),
                    (b"x-ratelimit-limit-requests", b"10000"), (b"x-ratelimit-remaining-requests", b"9999")]


async def _trivial(scope, receive, send) -> None:
    await receive()
    await send({"type": "http.response.start", "status": 200, "headers": _TRIVIAL_HEADERS})
    await send({"type": "http.response.body", "body": b"{}"})


async def _run(n: int, profile: bool, only: str | None, http: str) -> None:
    from bench.asgi_profile import _app, _lifespan
    from bench.bare import chat_app, uvicorn_protocol
    from bench.chat_http import CHAT_REQUEST
    from mockserver.protocol import EmulatorH11Protocol
    from mockserver.protocols import protocol_class

    emulator = protocol_class(http)
    bare = uvicorn_protocol("h11" if emulator is EmulatorH11Protocol else "httptools")
    print(f"protocols: emulator {emulator.__name__}, bare {bare.__name__}")

    body = json.dumps(CHAT_REQUEST).encode()
    request = (b"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1:8000\r\nContent-Type: application/json\r\n"
               b"Authorization: Bearer sk-bench-http\r\nContent-Length: %d\r\n\r\n" % len(body)) + body
    WORK.mkdir(parents=True, exist_ok=True)
    tmp = tempfile.TemporaryDirectory(prefix="bench-h11-", dir=WORK)
    ours_app = _app(tmp.name)
    shutdown = await _lifespan(ours_app)
    servers = {"bare": _protocol(chat_app(), bare), "ours": _protocol(ours_app, emulator),
               "protocol": _protocol(_trivial, emulator)}
    if only == "protocol":
        request = SDK_GET
    else:
        del servers["protocol"]
    if only:
        servers = {only: servers[only]}
    for proto, transport in servers.values():   # warm-up: imports, vocabularies, caches
        await _requests(proto, transport, request, 500)
    ratios = []
    for r in range(3):
        us = {}
        for who, (proto, transport) in servers.items():
            gc.collect()
            cpu0 = time.process_time()
            await _requests(proto, transport, request, n)
            us[who] = (time.process_time() - cpu0) / n * 1e6
        if only:
            print(f"round {r + 1}: {only} {us[only]:.1f} µs of CPU per request")
            continue
        ratios.append(us["bare"] / us["ours"])
        print(f"round {r + 1}: bare {us['bare']:.1f} µs, emulator {us['ours']:.1f} µs of CPU per request "
              f"→ req/s ratio {ratios[-1]:.2f}")
    if ratios:
        print(f"median req/s ratio (bare CPU ÷ emulator CPU per request): {statistics.median(ratios):.2f}")
    if profile:
        for who, (proto, transport) in servers.items():
            prof = cProfile.Profile(time.process_time)
            prof.enable()
            await _requests(proto, transport, request, n)
            prof.disable()
            out = WORK / "profiles" / f"h11-{who}.prof"
            out.parent.mkdir(parents=True, exist_ok=True)
            prof.dump_stats(out)
            print(f"--- {who}: stats in {out}")
            pstats.Stats(prof).sort_stats("tottime").print_stats(40)
    await shutdown()   # the app's own shutdown: its caches and stores closed
    ours_app.state.services.db.dispose()
    tmp.cleanup()


def main(argv: list[str]) -> None:
    if not argv or not argv[0].isdigit():
        raise SystemExit("usage: python -m bench.h11_profile N [--profile] [--only bare|ours|protocol] "
                         "[--http auto|httptools|h11]")
    only = argv[argv.index("--only") + 1] if "--only" in argv else None
    http = argv[argv.index("--http") + 1] if "--http" in argv else "auto"
    asyncio.run(_run(int(argv[0]), "--profile" in argv, only, http))


if __name__ == "__main__":
    main(sys.argv[1:])
