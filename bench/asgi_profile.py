"""What the emulator itself costs per call, without the SDK or any thread hop: the lifecycle's five requests
(or one chat completion) sent straight into the ASGI app on one event loop, timed, optionally under cProfile.

    python -m bench.asgi_profile lifecycle 200            # median ms per call + process CPU ms per lifecycle
    python -m bench.asgi_profile lifecycle 200 --profile  # the same under cProfile, worker-thread calls inlined
    python -m bench.asgi_profile chat 3000 [--profile]    # one base-model chat completion, µs per request

With --profile, `asyncio.to_thread` runs its function inline so cProfile (which sees one thread) sees the
store work too; the stats go to bench/.work/profiles/asgi-<what>.prof and the top functions are printed.
Not part of `make bench` (timing here is wall-clock on one core, for reading a profile, not a goal).
"""

from __future__ import annotations

import asyncio
import cProfile
import json
import pstats
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from bench.common import WORK

_B = b"----bench-boundary"


def _app(tmp: str):
    from mockserver.app import create_app
    from mockserver.settings import Settings

    return create_app(Settings(data_dir=Path(tmp), database_url=f"sqlite:///{tmp}/state.db", durable=False,
                               transitions="immediate"))


def _headers(content_type: bytes | None = None, length: int = 0) -> list[tuple[bytes, bytes]]:
    h = [(b"host", b"127.0.0.1"), (b"authorization", b"Bearer sk-bench-asgi")]
    if content_type:
        h += [(b"content-type", content_type), (b"content-length", str(length).encode())]
    return h


async def _lifespan(app) -> Callable[[], Awaitable[None]]:
    """Runs `app`'s lifespan startup; returns the coroutine function that runs its shutdown (the app closes its
    stores and caches) and waits for the lifespan task to end. The task is referenced until then: the event loop
    keeps only a weak reference to a task, and one waiting on a queue nothing else refers to is a garbage cycle —
    collected mid-run, it was reported at exit as "Task was destroyed but it is pending!", its shutdown never run."""
    queue: asyncio.Queue = asyncio.Queue()
    await queue.put({"type": "lifespan.startup"})
    started, stopped = asyncio.Event(), asyncio.Event()

    async def send(message: dict) -> None:
        if message["type"].startswith("lifespan.startup"):
            started.set()
        elif message["type"].startswith("lifespan.shutdown"):
            stopped.set()

    task = asyncio.ensure_future(app({"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}, queue.get, send))
    await started.wait()

    async def shutdown() -> None:
        await queue.put({"type": "lifespan.shutdown"})
        await stopped.wait()
        await task

    return shutdown


async def _lifecycle(app, training: bytes, per: dict[str, list[float]]) -> None:
    from mockserver.testing import asgi_request

    url = "http://127.0.0.1"
    form = (b"--" + _B + b'\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nfine-tune\r\n--' + _B +
            b'\r\nContent-Disposition: form-data; name="file"; filename="train.jsonl"\r\n'
            b"Content-Type: application/octet-stream\r\n\r\n" + training + b"\r\n--" + _B + b"--\r\n")
    marks = [time.perf_counter()]
    _, _, body = await asgi_request(app, "POST", url + "/v1/files",
                                    _headers(b"multipart/form-data; boundary=" + _B, len(form)), form)
    marks.append(time.perf_counter())
    create = json.dumps({"training_file": json.loads(body)["id"], "model": "gpt-4o-mini-2024-07-18"}).encode()
    _, _, body = await asgi_request(app, "POST", url + "/v1/fine_tuning/jobs",
                                    _headers(b"application/json", len(create)), create)
    job_id = json.loads(body)["id"]
    marks.append(time.perf_counter())
    _, _, body = await asgi_request(app, "GET", url + f"/v1/fine_tuning/jobs/{job_id}", _headers(), b"")
    job = json.loads(body)
    assert job["status"] == "succeeded", body
    marks.append(time.perf_counter())
    await asgi_request(app, "GET", url + f"/v1/fine_tuning/jobs/{job_id}/events", _headers(), b"")
    marks.append(time.perf_counter())
    chat = json.dumps({"model": job["fine_tuned_model"], "messages": [{"role": "user", "content": "hello"}]}).encode()
    status, _, body = await asgi_request(app, "POST", url + "/v1/chat/completions",
                                         _headers(b"application/json", len(chat)), chat)
    assert status == 200, body
    marks.append(time.perf_counter())
    for name, a, b in zip(("upload", "create", "retrieve", "events", "chat"), marks, marks[1:], strict=False):
        per[name].append((b - a) * 1000)


async def _chat(app, per: dict[str, list[float]]) -> None:
    from bench.chat_http import CHAT_REQUEST
    from mockserver.testing import asgi_request

    body = json.dumps(CHAT_REQUEST).encode()
    t0 = time.perf_counter()
    status, _, out = await asgi_request(app, "POST", "http://127.0.0.1/v1/chat/completions",
                                        _headers(b"application/json", len(body)), body)
    assert status == 200, out
    per["chat"].append((time.perf_counter() - t0) * 1e6)


async def _run(what: str, n: int, profile: bool) -> None:
    from bench import data

    WORK.mkdir(parents=True, exist_ok=True)   # a fresh clone has no bench/.work yet
    tmp = tempfile.TemporaryDirectory(prefix="bench-asgi-", dir=WORK)
    app = _app(tmp.name)
    shutdown = await _lifespan(app)
    training = data.small_file(10)
    per: dict[str, list[float]] = {k: [] for k in ("upload", "create", "retrieve", "events", "chat")}
    one = (lambda: _lifecycle(app, training, per)) if what == "lifecycle" else (lambda: _chat(app, per))
    for _ in range(30 if what == "lifecycle" else 300):   # warm-up: vocabularies, caches, compiled statements
        await one()
    per = {k: [] for k in per}
    prof = cProfile.Profile() if profile else None
    cpu0 = time.process_time()
    if prof:
        prof.enable()
    for _ in range(n):
        await one()
    if prof:
        prof.disable()
    cpu = (time.process_time() - cpu0) / n * 1000
    unit = "ms" if what == "lifecycle" else "µs"
    print({k: f"{statistics.median(v):.3f} {unit}" for k, v in per.items() if v}, f"process CPU {cpu:.2f} ms each")
    if prof:
        out = WORK / "profiles" / f"asgi-{what}.prof"
        out.parent.mkdir(parents=True, exist_ok=True)
        prof.dump_stats(out)
        pstats.Stats(prof).sort_stats("cumulative").print_stats(60)
        print(f"stats in {out}")
    await shutdown()   # the app's own shutdown: its caches and stores closed
    app.state.services.db.dispose()
    tmp.cleanup()


def main(argv: list[str]) -> None:
    what, n, profile = argv[0], int(argv[1]), "--profile" in argv
    if what not in ("lifecycle", "chat"):
        raise SystemExit("usage: python -m bench.asgi_profile lifecycle|chat N [--profile]")
    if profile:
        async def inline(fn, /, *args, **kwargs):
            return fn(*args, **kwargs)
        asyncio.to_thread = inline   # cProfile sees one thread: run the store work where it can see it
    asyncio.run(_run(what, n, profile))


if __name__ == "__main__":
    main(sys.argv[1:])
