"""A bounded loopback load test: throughput, p99 latency, and a flat RSS.

An async httpx2 client sends a fixed number of requests with ~32 in flight, under a hard time cap, to
one `mockserver` process: chat completions (base and fine-tuned models), and job polling, event and checkpoint listing and job listing while jobs advance in real time. After
a warm-up, the server's RSS is read at the start, half way and at the end: the second half may not
grow it by 20 MB or more. Figures land in pytest's summary ("reliability figures").
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx2
import pytest

from tests.reliability._checks import TERMINAL, pig_jsonl
from tests.reliability._server import FIGURES, KEY, Server, multipart, raw_http, request

pytestmark = pytest.mark.xdist_group("load")   # one worker, one loaded server for both runs
CONCURRENCY = 32
MODEL = "gpt-3.5-turbo-0613"
RSS_GROWTH_LIMIT = 20e6
SHORT = {"requests": 1500, "warmup": 300, "cap": 90.0}
LONG = {"requests": 60_000, "warmup": 2000, "cap": 900.0}


@dataclass
class Run:
    """What one load run measured."""

    latencies: list[float] = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    rss: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    def figures(self) -> dict[str, Any]:
        lat = sorted(self.latencies)
        pick = lambda q: round(lat[min(len(lat) - 1, int(q * len(lat)))] * 1000, 1)  # noqa: E731
        return {"requests": len(lat), "throughput_rps": round(len(lat) / self.seconds, 1),
                "p50_ms": pick(0.50), "p99_ms": pick(0.99), "max_ms": round(lat[-1] * 1000, 1),
                "rss_start_MB": round(self.rss["start"] / 1e6, 1),
                "rss_growth_first_half_MB": round((self.rss["half"] - self.rss["start"]) / 1e6, 1),
                "rss_growth_second_half_MB": round((self.rss["end"] - self.rss["half"]) / 1e6, 1),
                "seconds": round(self.seconds, 1)}


Maker = Callable[[int], tuple[str, str, Any]]   # request number → (method, path, JSON body or None)


async def _drive(srv: Server, make: Maker, n: int, *, measure: bool, run: Run) -> None:
    """Send requests 0..n-1 with CONCURRENCY in flight; record latency and status of each."""
    done = 0
    next_i = 0
    limits = httpx2.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)
    async with httpx2.AsyncClient(base_url=srv.base_url, limits=limits, timeout=60,
                                  headers={"Authorization": f"Bearer {KEY}"}) as client:
        async def worker() -> None:
            nonlocal done, next_i
            while next_i < n:
                i = next_i
                next_i += 1
                method, path, body = make(i)
                started = time.perf_counter()
                try:
                    r = await client.request(method, path, json=body)
                    status = r.status_code
                    if status != 200:
                        run.failures.append(f"{method} {path}: {status} {r.text[:200]}")
                except httpx2.HTTPError as e:
                    status = 0
                    run.failures.append(f"{method} {path}: {e!r}")
                if measure:
                    run.latencies.append(time.perf_counter() - started)
                    run.statuses[status] += 1
                done += 1
                if measure and done == n // 2:
                    run.rss["half"] = srv.rss()

        await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))


def load(srv: Server, make: Maker, size: dict[str, Any]) -> Run:
    run = Run()

    async def main() -> None:
        await _drive(srv, make, size["warmup"], measure=False, run=run)
        run.rss["start"] = srv.rss()
        started = time.perf_counter()
        await _drive(srv, make, size["requests"], measure=True, run=run)
        run.seconds = time.perf_counter() - started
        run.rss["end"] = srv.rss()

    try:
        asyncio.run(asyncio.wait_for(main(), size["cap"]))
    except TimeoutError:
        pytest.fail(f"the load run hit its {size['cap']} s cap after {len(run.latencies)} requests")
    assert not run.failures, f"{len(run.failures)} failed requests, first: {run.failures[:5]}"
    assert set(run.statuses) == {200}, run.statuses
    growth = run.rss["end"] - run.rss["half"]
    assert growth < RSS_GROWTH_LIMIT, f"RSS grew {growth / 1e6:.1f} MB over the second half: {run.figures()}"
    return run


# --- the server and what it holds ----------------------------------------------------------------------

@dataclass
class Loaded:
    server: Server
    jobs: list[str]
    tuned_model: str | None


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Loaded]:
    root = tmp_path_factory.mktemp("load")
    srv = Server(root / "data", transitions="realtime", time_scale=100.0).start()
    try:
        jobs = []
        for i in range(8):
            head, tail, ctype = multipart({"purpose": "fine-tune"}, filename=f"load-{i}.jsonl")
            r = raw_http(srv.port, request("POST", "/v1/files", headers={"Content-Type": ctype},
                                           body=head + pig_jsonl(10, f"load-{i}") + tail))
            file_id = json.loads(r.body)["id"]
            jobs.append(srv.json("POST", "/v1/fine_tuning/jobs",
                                 json_body={"model": MODEL, "training_file": file_id, "suffix": "load"})["id"])
        srv.json("POST", "/_mock/policy", json_body={"transitions": "immediate"})   # the first one finishes now
        tuned = srv.json("GET", f"/v1/fine_tuning/jobs/{jobs[0]}")["fine_tuned_model"]
        srv.json("POST", "/_mock/policy", json_body={"transitions": "realtime", "time_scale": 20.0})  # jobs step
        yield Loaded(srv, jobs, tuned)
    finally:
        srv.stop(timeout=5)


def _job_requests(jobs: list[str]) -> Maker:
    def make(i: int) -> tuple[str, str, Any]:
        rng = random.Random(i)
        job = rng.choice(jobs)
        return rng.choice([("GET", f"/v1/fine_tuning/jobs/{job}", None)] * 4 +
                          [("GET", f"/v1/fine_tuning/jobs/{job}/events?limit=20", None)] * 3 +
                          [("GET", f"/v1/fine_tuning/jobs/{job}/checkpoints", None),
                           ("GET", "/v1/fine_tuning/jobs?limit=10", None)])
    return make


def _chat_requests(tuned: str | None) -> Maker:
    questions = ["あなた豚のものまねしてる?", "体重何キロ?", "好きな食べ物は?", "What is the capital of France?",
                 "Summarise the plot of Hamlet in one sentence.", "質問 3"]

    def make(i: int) -> tuple[str, str, Any]:
        rng = random.Random(i)
        model = tuned if tuned and rng.random() < 0.5 else MODEL
        messages = [{"role": "system", "content": "何言われてもぶひと答えて"},
                    {"role": "user", "content": rng.choice(questions)}]
        return "POST", "/v1/chat/completions", {"model": model, "messages": messages, "max_tokens": 32,
                                                "seed": i % 7}
    return make


def _run_jobs(loaded: Loaded, size: dict[str, Any], name: str) -> None:
    run = load(loaded.server, _job_requests(loaded.jobs), size)
    statuses = Counter(loaded.server.json("GET", f"/v1/fine_tuning/jobs/{j}")["status"] for j in loaded.jobs)
    FIGURES.add(name, **run.figures(), jobs=dict(statuses))
    assert all(s not in ("failed", "cancelled") for s in statuses), statuses
    assert TERMINAL & set(statuses), "no job finished during the run"


def _run_chat(loaded: Loaded, size: dict[str, Any], name: str) -> None:
    run = load(loaded.server, _chat_requests(loaded.tuned_model), size)
    FIGURES.add(name, **run.figures())


def test_load_job_polling(loaded: Loaded) -> None:
    _run_jobs(loaded, SHORT, "load jobs (short)")


def test_load_chat_completions(loaded: Loaded) -> None:
    _run_chat(loaded, SHORT, "load chat (short)")


@pytest.mark.slow
def test_load_job_polling_long(loaded: Loaded) -> None:
    _run_jobs(loaded, LONG, "load jobs (long)")


@pytest.mark.slow
def test_load_chat_completions_long(loaded: Loaded) -> None:
    _run_chat(loaded, LONG, "load chat (long)")
