"""The in-process bridge (mockserver.testing.AsgiBridge): a synchronous call runs its request on the loop in the
calling thread when the loop is idle, and everything that needs the loop between calls still gets it."""

from __future__ import annotations

import asyncio
import threading
import time
from collections import deque

from mockserver.testing import AsgiBridge, _work_before


def _wait_for(predicate, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.005)
    return True


class _App:
    """A tiny ASGI app: `/thread` answers the thread it ran in; `/later` starts a task that finishes after the
    response (a timer, then a worker thread); `/offload` awaits a worker thread; a lifespan task ticks."""

    def __init__(self, tick: bool = True) -> None:
        self.tick = tick
        self.ticks = 0
        self.later_done = threading.Event()

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(0.005)
            self.ticks += 1

    async def _later(self) -> None:
        await asyncio.sleep(0.02)
        await asyncio.to_thread(time.sleep, 0.01)
        self.later_done.set()

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "lifespan":
            await receive()
            ticker = asyncio.ensure_future(self._tick() if self.tick else asyncio.sleep(0))
            await send({"type": "lifespan.startup.complete"})
            await receive()
            ticker.cancel()
            await send({"type": "lifespan.shutdown.complete"})
            return
        await receive()
        body = b"ok"
        if scope["path"] == "/thread":
            body = str(threading.get_ident()).encode()
        elif scope["path"] == "/later":
            self.task = asyncio.ensure_future(self._later())
        elif scope["path"] == "/offload":
            body = str(await asyncio.to_thread(threading.get_ident)).encode()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": body})


def test_an_idle_loop_runs_the_request_in_the_calling_thread() -> None:
    bridge = AsgiBridge(_App())
    try:
        threads = {int(bridge.call("GET", "http://x/thread", [], b"")[2]) for _ in range(20)}
        assert threading.get_ident() in threads
        worker = int(bridge.call("GET", "http://x/offload", [], b"")[2])
        assert worker not in (threading.get_ident(), bridge.thread.ident)   # blocking work still leaves the loop
    finally:
        bridge.close()


def test_the_parked_loop_thread_sleeps_through_a_callers_worker_results() -> None:
    """While a caller runs the loop, a worker thread handing back its result wakes the caller's select only: the
    loop thread, parked, does not wake to run a pass of its own after each call."""
    bridge = AsgiBridge(_App(tick=False))
    passes = []
    select = bridge._selector.select

    def counting(timeout=None):
        if threading.get_ident() == bridge._selector.owner:
            passes.append(timeout)
        return select(timeout)

    bridge._selector.select = counting
    try:
        assert bridge._selector.pipe is not None
        bridge.call("GET", "http://x/offload", [], b"")
        before = len(passes)
        for _ in range(20):
            assert bridge.call("GET", "http://x/offload", [], b"")[0] == 200
        assert len(passes) - before <= 2   # (the start-up pass may still be ending; woken per call: 20 or more)
    finally:
        bridge.close()


def test_background_work_runs_between_calls() -> None:
    bridge = AsgiBridge(app := _App())
    try:
        assert bridge.call("GET", "http://x/later", [], b"")[0] == 200
        # nobody calls again: the loop thread must run the task's timer and take its worker thread's result
        assert app.later_done.wait(10)
        ticks = app.ticks
        assert _wait_for(lambda: app.ticks > ticks + 3)   # the lifespan's ticker keeps ticking while idle
    finally:
        bridge.close()


def test_calls_from_many_threads_and_from_inside_an_event_loop() -> None:
    bridge = AsgiBridge(_App())
    try:
        results: list[int] = []

        def worker() -> None:
            for _ in range(25):
                results.append(bridge.call("GET", "http://x/offload", [], b"")[0])

        threads = [threading.Thread(target=worker) for _ in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert results == [200] * 150

        async def inside() -> tuple[int, int]:   # a sync call from a thread running its own loop is handed over
            sync = bridge.call("GET", "http://x/thread", [], b"")
            via_acall = await bridge.acall("GET", "http://x/offload", [], b"")
            return int(sync[2]), via_acall[0]

        ran_in, status = asyncio.run(inside())
        assert ran_in == bridge.thread.ident and status == 200
    finally:
        bridge.close()


def test_work_before_reads_the_loops_queues() -> None:
    """Canary for the CPython attributes the bridge reads (`BaseEventLoop._ready`, `_scheduled`, the self-pipe
    socket `_ssock` of SelectorEventLoop): if they change shape, the bridge must be told (it would still be
    correct, its thread waking more often)."""
    loop = asyncio.SelectorEventLoop()
    try:
        assert isinstance(loop._ready, deque) and isinstance(loop._scheduled, list)
        assert loop._ssock.fileno() in loop._selector.get_map()
        assert not _work_before(loop, float("inf"))
        timer = loop.call_later(10, lambda: None)
        assert _work_before(loop, float("inf")) and not _work_before(loop, loop.time() + 5)
        timer.cancel()
        loop.call_soon(lambda: None)
        assert _work_before(loop, loop.time())
    finally:
        loop.close()
