"""Helpers of the hostile suite: a counting HTTP client, a latency probe, RSS and disk readings.

`Probe.during(heavy)` runs one heavy request in a thread while another client sends light requests
(`GET /v1/models`) on fresh connections, and records how long each light request took and whether it
finished before the heavy one did — the figure the README reports as "worst latency another client saw".
No timing is asserted as an absolute value: tests compare with a baseline taken in the same run, with
wide margins, or check the order in which requests finished.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.reliability._server import FIGURES, KEY, Response, Server, raw_http, request

__all__ = ["Tally", "TALLY", "Heavy", "during", "baseline", "disk_bytes", "post_json", "chat_body", "get", "srv",
           "error_of"]


@dataclass
class Tally:
    """Requests the suite sent and how many got a 5xx."""

    sent: int = 0
    server_errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def send(self, port: int, data: bytes, *, timeout: float = 120.0, what: str = "") -> Response:
        r = raw_http(port, data, timeout=timeout)
        with self.lock:
            self.sent += 1
            if r.status >= 500:
                self.server_errors.append(f"{what or data[:60]!r}: {r.status} {r.body[:200]!r}")
        return r


TALLY = Tally()


def post_json(srv: Server, path: str, body: Any, *, headers: dict[str, str] | None = None, key: str | None = KEY,
              timeout: float = 120.0, sent: threading.Event | None = None) -> Response:
    """POST a JSON body; with `sent`, the event is set once the whole request has been written."""
    data = request("POST", path, json_body=body, headers=headers, key=key)
    return TALLY.send(srv.port, data if sent is None else _then_set(data, sent), timeout=timeout, what=f"POST {path}")


def _then_set(data: bytes, sent: threading.Event) -> Iterator[bytes]:
    """`data` as one chunk for raw_http, `sent` set once it has been written (raw_http asks for the next chunk
    only after sendall returned)."""
    yield data
    sent.set()


def get(srv: Server, path: str, *, headers: dict[str, str] | None = None, key: str | None = KEY) -> Response:
    return TALLY.send(srv.port, request("GET", path, headers=headers, key=key), what=f"GET {path}")


def chat_body(content: str, **extra: Any) -> dict:
    return {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": content}], **extra}


def baseline(srv: Server, n: int = 20) -> float:
    """Median latency of the light request on an idle server (seconds)."""
    times = []
    for _ in range(n):
        t = time.perf_counter()
        assert get(srv, "/v1/models").status == 200
        times.append(time.perf_counter() - t)
    return sorted(times)[len(times) // 2]


@dataclass
class Heavy:
    """One heavy request and what the other client saw meanwhile."""

    response: Response
    seconds: float
    light: list[float]              # latencies of the light requests sent while it ran
    finished_before: int            # light requests that finished before the heavy one did
    peak_rss: int

    @property
    def worst_ms(self) -> float:
        return round(max(self.light, default=0.0) * 1000, 1)

    def json(self) -> Any:
        return json.loads(self.response.body)


def during(srv: Server, heavy: Callable[[threading.Event], Response], *, min_light: int = 3) -> Heavy:
    """Run `heavy(sent)` in a thread; once it has written its whole request (`sent` set: the server has all of
    it and is working on it), send light requests one after another (at least `min_light` of them, the last
    ones possibly after the heavy request ended). Waiting for `sent` rather than a fixed delay keeps the window
    the server's own work however fast the request is written or answered."""
    out: dict[str, Any] = {}
    started, sent = threading.Event(), threading.Event()

    def run() -> None:
        t = time.perf_counter()
        started.set()
        try:
            out["response"] = heavy(sent)
        finally:
            sent.set()
        out["seconds"] = time.perf_counter() - t
        out["ended"] = time.perf_counter()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    started.wait()
    sent.wait()        # the heavy request is written (or has failed: then `thread` has ended)
    time.sleep(0.01)   # and read: the server takes its body off the socket in a few ms, then works on it
    light: list[float] = []
    before = 0
    peak = srv.rss()
    while thread.is_alive() or len(light) < min_light:
        t = time.perf_counter()
        r = get(srv, "/v1/models")
        done = time.perf_counter()
        assert r.status == 200, r.body[:300]
        light.append(done - t)
        if thread.is_alive():
            before += 1
        peak = max(peak, srv.rss())
        if len(light) > 10_000:
            break
    thread.join()
    return Heavy(out["response"], out["seconds"], light, before, peak)


def disk_bytes(root: Path) -> int:
    """Bytes of every regular file under `root` (the data dir's files/ and tmp/)."""
    return sum(p.stat().st_size for p in Path(root).rglob("*") if p.is_file())


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory):
    """One server per test module (`--transitions immediate`); the module's 5xx count must stay 0."""
    root = tmp_path_factory.mktemp("hostile")
    with Server(root / "data", transitions="immediate") as server:
        # load both encodings first: a tokenizer's first use (~1 s) is a one-off, not what is measured
        assert post_json(server, "/v1/chat/completions", chat_body("warm up")).status == 200
        assert post_json(server, "/v1/completions", {"model": "davinci-002", "prompt": "warm up"}).status == 200
        yield server
    FIGURES.add("hostile suite (cumulative)", requests=TALLY.sent, server_errors=len(TALLY.server_errors))
    assert not TALLY.server_errors, TALLY.server_errors[:5]


def error_of(r: Response) -> dict:
    """The `error` object of an OpenAI-shaped error body (asserting the shape)."""
    body = json.loads(r.body)
    assert set(body) == {"error"} and set(body["error"]) == {"message", "type", "param", "code"}, body
    return body["error"]
