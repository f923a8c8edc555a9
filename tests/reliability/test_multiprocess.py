"""Several processes, one state: `--workers 2`, and two independent `mockserver` processes on one database.

Both layouts must behave as one server under concurrent load from many client threads (httpx2, no
retries): no duplicate ids, no lost writes, no job advanced twice, no event out of order, no 5xx.

* realtime: jobs move on their own (high time scale) while uploads, job creations, polls, event and
  checkpoint listings and cancels hit both processes at random;
* manual: the virtual clock only moves by control-plane advance calls, sent concurrently to both
  processes; every advance must count (no lost update of the shared clock) and every untouched job
  must end with exactly the same history, whichever process advanced it.

The same runs against PostgreSQL when MOCKSERVER_TEST_POSTGRES_URL is set (`.ci/postgres.sh` sets it).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import random
import re
import secrets
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2
import pytest

from tests.reliability._checks import TERMINAL, all_events, bad_jsonl, check_events, pig_jsonl
from tests.reliability._server import (
    FIGURES,
    KEY,
    Server,
    fresh_pg_database,
    multipart,
    pg_database_or_skip,
    raw_http,
    request,
)

MODEL = "gpt-3.5-turbo-0613"
LONG = {"ops": 3000, "jobs": 80}
SHORT = {"ops": 400, "jobs": 24}


# --- fixtures: the database and the processes ----------------------------------------------------------

@pytest.fixture(params=["sqlite", "postgres"])
def database(request, tmp_path: Path) -> Iterator[str | None]:
    """None for SQLite in the data dir; for PostgreSQL a fresh database, dropped afterwards (the tests
    with their own backend × layout runs name the param: `runs`)."""
    if request.param == "sqlite":
        yield None
        return
    with pg_database_or_skip() as fresh:
        yield fresh


@dataclass
class Cluster:
    """The processes under test; every request picks one of their ports at random."""

    servers: list[Server]

    @property
    def ports(self) -> list[int]:
        return [s.port for s in self.servers]


@contextlib.contextmanager
def cluster(layout: str, tmp_path: Path, database_url: str | None, **kw: Any) -> Iterator[Cluster]:
    data_dir = tmp_path / "data"
    if layout == "workers2":
        servers = [Server(data_dir, workers=2, database_url=database_url, **kw)]
    else:
        servers = [Server(data_dir, database_url=database_url, cwd=tmp_path / f"p{i}", **kw) for i in range(2)]
    try:
        starters = [threading.Thread(target=s.start) for s in servers]   # start together: schema races
        for t in starters:
            t.start()
        for t in starters:
            t.join(120)
        for s in servers:
            assert s.running, f"a server did not start:\n{s.log_tail()}"
        yield Cluster(servers)
    finally:
        for s in servers:
            s.stop(timeout=5)


# --- the client side --------------------------------------------------------------------------------

@dataclass
class Book:
    """What the servers acknowledged, and everything that went wrong."""

    files: dict[str, str] = field(default_factory=dict)      # id → sha256 of the bytes sent
    training: list[tuple[str, bool]] = field(default_factory=list)
    jobs: dict[str, str] = field(default_factory=dict)       # id → expected end state
    touched: set[str] = field(default_factory=set)           # jobs paused/resumed/cancelled
    problems: list[str] = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)
    requests: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


class Clients:
    """One keep-alive httpx2 client per (thread, port); each request goes to a random process."""

    def __init__(self, cluster: Cluster, book: Book) -> None:
        self.cluster, self.book = cluster, book
        self.local = threading.local()

    def _client(self, port: int) -> httpx2.Client:
        clients = self.local.__dict__.setdefault("clients", {})
        if port not in clients:
            clients[port] = httpx2.Client(base_url=f"http://127.0.0.1:{port}", timeout=60,
                                          headers={"Authorization": f"Bearer {KEY}"})
        return clients[port]

    def call(self, method: str, path: str, rng: random.Random, *, ok: tuple[int, ...] = (200,),
             port: int | None = None, **kw: Any) -> httpx2.Response | None:
        port = port or rng.choice(self.cluster.ports)
        try:
            r = self._client(port).request(method, path, **kw)
        except httpx2.HTTPError as e:
            self.problem(f"{method} {path} on :{port}: {e!r}")
            return None
        with self.book.lock:
            self.book.requests += 1
            self.book.statuses[r.status_code] += 1
        if r.status_code not in ok:
            self.problem(f"{method} {path} on :{port}: {r.status_code} {r.text[:300]}")
            return None
        return r

    def get(self, path: str, rng: random.Random | None = None) -> Any:
        r = self.call("GET", path, rng or random.Random())
        assert r is not None, self.book.problems[-1]
        return r.json()

    def problem(self, text: str) -> None:
        with self.book.lock:
            self.book.problems.append(text)

    def close(self) -> None:
        for c in self.local.__dict__.get("clients", {}).values():
            c.close()


def _upload(c: Clients, rng: random.Random, data: bytes, name: str) -> str | None:
    r = c.call("POST", "/v1/files", rng, files={"file": (name, data, "application/jsonl")},
               data={"purpose": "fine-tune"})
    if r is None:
        return None
    with c.book.lock:
        fid = r.json()["id"]
        if fid in c.book.files:
            c.book.problems.append(f"duplicate file id {fid}")
        c.book.files[fid] = hashlib.sha256(data).hexdigest()
    return fid


def _create_job(c: Clients, rng: random.Random, file_id: str, valid: bool, **extra: Any) -> str | None:
    r = c.call("POST", "/v1/fine_tuning/jobs", rng, json={"model": MODEL, "training_file": file_id, **extra})
    if r is None:
        return None
    with c.book.lock:
        jid = r.json()["id"]
        if jid in c.book.jobs:
            c.book.problems.append(f"duplicate job id {jid}")
        c.book.jobs[jid] = "succeeded" if valid else "failed"
    return jid


def _run_ops(c: Clients, ops: list[Callable[[random.Random], None]], seed: int, threads: int = 24) -> None:
    def run(i: int) -> None:
        ops[i](random.Random(seed * 100_003 + i))

    with ThreadPoolExecutor(threads) as pool:
        for f in [pool.submit(run, i) for i in range(len(ops))]:
            exc = f.exception()
            if exc is not None:
                c.problem(f"client op raised {exc!r}")


# --- what must hold afterwards --------------------------------------------------------------------

def _wait_terminal(c: Clients, timeout: float) -> dict[str, dict]:
    deadline = time.monotonic() + timeout
    final: dict[str, dict] = {}
    for jid in sorted(c.book.jobs):
        while True:
            job = c.get(f"/v1/fine_tuning/jobs/{jid}")
            if job["status"] in TERMINAL or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        final[jid] = job
    return final


def _list_all(c: Clients, port: int, path: str) -> list[dict]:
    out: list[dict] = []
    after = None
    while True:
        r = c.call("GET", path + (f"&after={after}" if after else ""), random.Random(), port=port)
        assert r is not None, c.book.problems[-1]
        page = r.json()
        out += page["data"]
        if not page["has_more"]:
            return out
        after = page["data"][-1]["id"]


def _check_everything(c: Clients, final: dict[str, dict]) -> dict[str, int]:
    book = c.book
    assert not book.problems, f"{len(book.problems)} problems, first ones: {book.problems[:8]}"
    five = {s: n for s, n in book.statuses.items() if s >= 500}
    assert not five, f"5xx answers: {five}"
    for port in c.cluster.ports:
        files = _list_all(c, port, "/v1/files?limit=10000")
        ids = [f["id"] for f in files]
        assert len(ids) == len(set(ids)), f":{port} lists a file twice"
        lost = set(book.files) - set(ids)
        assert not lost, f":{port} lost acknowledged uploads: {sorted(lost)[:5]}"
        jobs = _list_all(c, port, "/v1/fine_tuning/jobs?limit=100")
        jids = [j["id"] for j in jobs]
        assert len(jids) == len(set(jids)), f":{port} lists a job twice"
        lost = set(book.jobs) - set(jids)
        assert not lost, f":{port} lost acknowledged jobs: {sorted(lost)[:5]}"
    for fid, digest in book.files.items():
        r = c.call("GET", f"/v1/files/{fid}/content", random.Random(fid))
        assert r is not None and hashlib.sha256(r.content).hexdigest() == digest, f"{fid}: content differs"
    events = 0
    for jid, job in final.items():
        expected = book.jobs[jid]
        assert job["status"] == expected or (jid in book.touched and job["status"] in TERMINAL), \
            f"{jid}: {job['status']}, expected {expected}: {job['error']}"
        views = [all_events(lambda p, port=port: c.call("GET", p, random.Random(), port=port).json(), jid)
                 for port in c.cluster.ports]
        assert all(v == views[0] for v in views), f"{jid}: the processes list different events"
        events += check_events(job, views[0])["events"]
        ckpts = c.get(f"/v1/fine_tuning/jobs/{jid}/checkpoints?limit=100")["data"]
        steps = [k["step_number"] for k in ckpts]
        assert len(steps) == len(set(steps)), f"{jid}: checkpoint steps repeated: {steps}"
        if job["status"] == "succeeded":
            assert len(ckpts) == 3, f"{jid}: {len(ckpts)} checkpoints"
    models = [m["id"] for m in c.get("/v1/models")["data"]]
    assert len(models) == len(set(models)), "a model is listed twice"
    succeeded = {j["fine_tuned_model"] for j in final.values() if j["status"] == "succeeded"}
    assert succeeded <= set(models), "a succeeded job's model is not listed"
    return {"events_checked": events}


# --- realtime: jobs move by themselves while everything else happens --------------------------------

def _realtime_ops(c: Clients, n_ops: int, rng: random.Random) -> list[Callable[[random.Random], None]]:
    def upload(r: random.Random) -> None:
        tag = secrets.token_hex(6)
        valid = r.random() < 0.9
        fid = _upload(c, r, pig_jsonl(10, tag) if valid else bad_jsonl(tag), f"t-{tag}.jsonl")
        if fid:
            with c.book.lock:
                c.book.training.append((fid, valid))

    def create(r: random.Random) -> None:
        with c.book.lock:
            fid, valid = r.choice(c.book.training)
        _create_job(c, r, fid, valid, suffix="mp")

    def some_job(r: random.Random) -> str | None:
        with c.book.lock:
            return r.choice(sorted(c.book.jobs)) if c.book.jobs else None

    def poll(r: random.Random) -> None:
        if jid := some_job(r):
            c.call("GET", f"/v1/fine_tuning/jobs/{jid}", r)

    def events(r: random.Random) -> None:
        if jid := some_job(r):
            c.call("GET", f"/v1/fine_tuning/jobs/{jid}/events?limit={r.choice([1, 20, 100])}", r)

    def checkpoints(r: random.Random) -> None:
        if jid := some_job(r):
            c.call("GET", f"/v1/fine_tuning/jobs/{jid}/checkpoints", r)

    def cancel(r: random.Random) -> None:
        if jid := some_job(r):
            with c.book.lock:
                c.book.touched.add(jid)
            resp = c.call("POST", f"/v1/fine_tuning/jobs/{jid}/cancel", r, ok=(200, 400))
            if resp is not None and resp.status_code == 400:
                assert resp.json()["error"]["code"] == "invalid_job_state", resp.text
            elif resp is not None:
                assert resp.json()["status"] == "cancelled", resp.text
                with c.book.lock:
                    c.book.jobs[jid] = "cancelled"

    def lists(r: random.Random) -> None:
        c.call("GET", r.choice(["/v1/files?limit=50", "/v1/fine_tuning/jobs?limit=20", "/v1/models"]), r)

    mix = [(upload, 20), (create, 22), (poll, 20), (events, 18), (checkpoints, 5), (cancel, 5), (lists, 10)]
    funcs = [f for f, w in mix for _ in range(w)]
    return [rng.choice(funcs) for _ in range(n_ops)]


def run_realtime(layout: str, tmp_path: Path, database_url: str | None, size: dict[str, int]) -> dict:
    book = Book()
    with cluster(layout, tmp_path, database_url, transitions="realtime", time_scale=400.0) as cl:
        c = Clients(cl, book)
        rng = random.Random(7)
        for i in range(4):   # something to train on before the storm
            fid = _upload(c, rng, pig_jsonl(10, f"seed-{i}"), f"seed-{i}.jsonl")
            assert fid, book.problems
            book.training.append((fid, True))
        _run_ops(c, _realtime_ops(c, size["ops"], rng), seed=11)
        final = _wait_terminal(c, timeout=90)
        figures = _check_everything(c, final)
        c.close()
    return {"requests": book.requests, "uploads": len(book.files), "jobs": len(book.jobs),
            "cancelled": sum(j["status"] == "cancelled" for j in final.values()), **figures}


def runs(fast: set[tuple[str, str]]) -> list[Any]:
    """(backend, layout, size, label) for every backend × layout at the long size (the slow tier), and at
    the short size for the `fast` pairs only: the realtime and the manual storms each take one diagonal,
    so the fast tier still runs both backends and both layouts under both kinds of storm."""
    out = []
    for backend in ("sqlite", "postgres"):
        for layout in ("workers2", "two_processes"):
            if (backend, layout) in fast:
                out.append(pytest.param(backend, layout, SHORT, "", id=f"{backend}-{layout}-short"))
            out.append(pytest.param(backend, layout, LONG, " long", id=f"{backend}-{layout}-long",
                                    marks=pytest.mark.slow))
    return out


def _record(kind: str, run, layout: str, size, label: str, database: str | None, tmp_path: Path) -> None:
    started = time.monotonic()
    figures = run(layout, tmp_path, database, size)
    FIGURES.add(f"multiprocess {kind}{label} {layout} {'postgres' if database else 'sqlite'}", **figures,
                seconds=round(time.monotonic() - started, 1))


@pytest.mark.parametrize("database,layout,size,label", runs({("sqlite", "workers2"), ("postgres", "two_processes")}),
                         indirect=["database"])
def test_realtime_storm(layout: str, size, label: str, database: str | None, tmp_path: Path) -> None:
    _record("realtime", run_realtime, layout, size, label, database, tmp_path)


# --- manual: only control-plane advances move the clock -----------------------------------------------

def _timeline(job: dict, events: list[dict]) -> list[tuple]:
    """A job's history with its own ids and names taken out: equal for equal jobs, however advanced."""
    def norm(text: str) -> str:
        text = text.replace(job["id"], "JOB").replace(job["fine_tuned_model"] or "\0", "MODEL")
        return re.sub(r"ft:\S+:ckpt-step-(\d+)", r"CKPT-\1", text)

    return [(e["created_at"] - job["created_at"], e["type"], e["level"], norm(e["message"])) for e in events]


def run_manual(layout: str, tmp_path: Path, database_url: str | None, size: dict[str, int]) -> dict:
    book = Book()
    with cluster(layout, tmp_path, database_url, transitions="manual", time_scale=1.0) as cl:
        c = Clients(cl, book)
        rng = random.Random(5)
        fid = _upload(c, rng, pig_jsonl(10, "manual"), "manual.jsonl")
        bad = _upload(c, rng, bad_jsonl("manual"), "bad.jsonl")
        assert fid and bad, book.problems
        now0 = c.get("/_mock/state")["now"]
        with ThreadPoolExecutor(16) as pool:   # all created at the same virtual instant
            jids = list(pool.map(lambda i: _create_job(c, random.Random(i), bad if i % 8 == 7 else fid,
                                                       i % 8 != 7, seed=42, suffix="det"), range(size["jobs"])))
        assert all(jids), book.problems
        assert c.get("/_mock/state")["now"] == now0, "the clock moved under manual transitions"
        to_cancel, to_pause = set(jids[1::8]), set(jids[2::8])
        book.touched |= to_cancel | to_pause
        advanced: list[float] = []

        def advance(r: random.Random) -> None:
            seconds = r.choice([0.5, 1, 2.5, 3, 7, 15])
            if c.call("POST", "/_mock/clock/advance", r, json={"seconds": seconds}) is not None:
                with book.lock:
                    advanced.append(seconds)

        def read(r: random.Random) -> None:
            jid = r.choice(jids)
            c.call("GET", r.choice([f"/v1/fine_tuning/jobs/{jid}", f"/v1/fine_tuning/jobs/{jid}/events",
                                    f"/v1/fine_tuning/jobs/{jid}/checkpoints?limit=5"]), r)

        def act(r: random.Random) -> None:
            jid = r.choice(sorted(to_cancel | to_pause))
            action = "cancel" if jid in to_cancel else r.choice(["pause", "resume"])
            c.call("POST", f"/v1/fine_tuning/jobs/{jid}/{action}", r, ok=(200, 400))

        ops = [rng.choice([advance] * 3 + [read] * 6 + [act]) for _ in range(size["ops"])]
        _run_ops(c, ops, seed=13)
        moved = c.get("/_mock/state")["now"] - now0
        assert abs(moved - sum(advanced)) < 1e-6, \
            f"{len(advanced)} advances of {sum(advanced)} s moved the clock {moved} s: an advance was lost"
        for jid in to_pause:   # let every paused job finish
            c.call("POST", f"/v1/fine_tuning/jobs/{jid}/resume", rng, ok=(200, 400))
        c.call("POST", "/_mock/clock/advance", rng, json={"seconds": 5000})
        final = _wait_terminal(c, timeout=30)
        for jid in to_cancel:
            book.jobs[jid] = final[jid]["status"]
        figures = _check_everything(c, final)
        plain = [j for j in jids if j not in book.touched and book.jobs[j] == "succeeded"]
        lines = {tuple(_timeline(final[j], all_events(c.get, j))) for j in plain}
        assert len(lines) == 1, f"{len(lines)} different histories among {len(plain)} identical jobs"
        c.close()
    return {"requests": book.requests, "jobs": len(jids), "advances": len(advanced), **figures}


@pytest.mark.parametrize("database,layout,size,label", runs({("sqlite", "two_processes"), ("postgres", "workers2")}),
                         indirect=["database"])
def test_manual_advances(layout: str, size, label: str, database: str | None, tmp_path: Path) -> None:
    _record("manual", run_manual, layout, size, label, database, tmp_path)


# --- start-up: several processes creating the schema and the clock policy at the same instant ----------

def _start_at_barrier(url: str, data_dir: str, barrier: Any, results: Any) -> None:
    from mockserver.services import Services
    from mockserver.settings import Settings

    settings = Settings(data_dir=Path(data_dir), database_url=url, transitions="manual", time_scale=1.0)
    barrier.wait(60)
    try:
        services = Services.build(settings)
        with services.db.session() as s:
            results.put(("ok", services.policy(s).now(0.0)))
    except Exception as e:
        results.put(("error", f"{type(e).__name__}: {str(e)[:300]}"))


def _race(url: str, data_dir: str, n: int, results: Any) -> None:
    """In a fresh interpreter: import mockserver once, then fork `n` processes that build their services
    at the same instant (what races is creating the schema and the clock, not importing); their outcomes
    go to `results` as one list."""
    import importlib
    import multiprocessing
    import queue

    importlib.import_module("mockserver.services")   # inherited by every fork
    ctx = multiprocessing.get_context("fork")        # this process has no other thread
    barrier, outcomes = ctx.Barrier(n), ctx.Queue()
    procs = [ctx.Process(target=_start_at_barrier, args=(url, data_dir, barrier, outcomes)) for _ in range(n)]
    for p in procs:
        p.start()
    try:
        results.put([outcomes.get(timeout=120) for _ in procs])
    except queue.Empty:
        results.put([("error", "a process gave no outcome within 120 s")])
    finally:
        for p in procs:
            p.join(30)
            if p.is_alive():
                p.kill()


def test_simultaneous_first_start(database: str | None, tmp_path: Path) -> None:
    """Six processes build their services on a fresh database at once: all start, and agree on the clock."""
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")
    for round_ in range(2):
        data_dir = tmp_path / f"data{round_}"
        with contextlib.ExitStack() as stack:
            url = stack.enter_context(fresh_pg_database(database)) if database else \
                f"sqlite:///{data_dir / 'state.db'}"
            results = ctx.Queue()
            racer = ctx.Process(target=_race, args=(url, str(data_dir), 6, results))
            racer.start()
            try:
                outcomes = results.get(timeout=240)
            finally:
                racer.join(60)
                if racer.is_alive():
                    racer.kill()
            assert len(outcomes) == 6, f"round {round_}: {outcomes}"
            errors = [text for kind, text in outcomes if kind == "error"]
            assert not errors, f"round {round_}: processes failed to start together: {errors}"
            assert len({now for _, now in outcomes}) == 1, f"round {round_}: processes disagree on the clock"


def test_workers_keepalive_latency(tmp_path: Path) -> None:
    """`--workers 2` serves keep-alive requests; their median latency is reported, not asserted (timing
    belongs to `make bench`; TCP_NODELAY, which keeps it low, is checked in tests/unit/test_protocol.py)."""
    srv = Server(tmp_path / "data", workers=2, transitions="immediate")
    with srv, httpx2.Client(base_url=srv.base_url, headers={"Authorization": f"Bearer {KEY}"}) as client:
        timings = []
        for _ in range(40):
            started = time.perf_counter()
            assert client.get("/v1/models").status_code == 200
            timings.append(time.perf_counter() - started)
    median = sorted(timings)[len(timings) // 2]
    FIGURES.add("workers2 keep-alive", median_ms=round(median * 1000, 1))


def test_seeded_ids_never_collide(tmp_path: Path) -> None:
    """--seed repeats its id sequence after a restart, after a second /_mock/seed and in a second
    worker: ids already stored are skipped instead of failing the insert with a 500."""
    def upload(srv: Server, i: int) -> str:
        head, tail, ctype = multipart({"purpose": "fine-tune"}, filename=f"s{i}.jsonl")
        r = raw_http(srv.port, request("POST", "/v1/files", headers={"Content-Type": ctype},
                                       body=head + pig_jsonl(10, str(i)) + tail))
        assert r.status == 200, (r.status, r.body[:300])
        return json.loads(r.body)["id"]

    def train(srv: Server, file_id: str) -> None:
        job = srv.json("POST", "/v1/fine_tuning/jobs", json_body={"model": MODEL, "training_file": file_id})
        assert srv.json("GET", f"/v1/fine_tuning/jobs/{job['id']}")["status"] == "succeeded"

    ids: list[str] = []
    srv = Server(tmp_path / "data", seed=7, transitions="immediate")
    with srv:
        ids += [upload(srv, i) for i in range(3)]
        train(srv, ids[0])
        srv.json("POST", "/_mock/seed", json_body={"seed": 7})
        ids += [upload(srv, i) for i in range(3, 6)]
        train(srv, ids[1])                 # the same job id, events and model name come up again
        srv.restart()
        ids += [upload(srv, i) for i in range(6, 9)]
        train(srv, ids[2])
    assert len(set(ids)) == len(ids)


def test_a_write_in_one_process_changes_the_other_process_answers_at_once(database: str | None,
                                                                         tmp_path: Path) -> None:
    """Two processes on one database; B answers chat from its caches (on SQLite without a statement while the
    stamp beside the database file is unchanged: mockserver.cache). Every fixture A adds or deletes changes
    B's very next answer, and a model A deletes is gone from B at once."""
    ping = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "ping"}]}
    with cluster("two_processes", tmp_path, database, transitions="immediate") as c:
        a, b = c.servers

        def ask(srv: Server) -> str:
            return srv.json("POST", "/v1/chat/completions", json_body=ping)["choices"][0]["message"]["content"]

        plain = ask(b)
        assert ask(b) == plain and "pong" not in plain       # cached on B now
        for i in range(3):
            fixture = a.json("POST", "/_mock/fixtures", json_body={"pattern": "ping", "reply": {"content": f"pong {i}"}})
            assert ask(b) == f"pong {i}" and ask(b) == f"pong {i}"
            a.json("DELETE", f"/_mock/fixtures/{fixture['id']}")
            assert ask(b) == plain
        head, tail, ctype = multipart({"purpose": "fine-tune"}, filename="pig.jsonl")
        r = raw_http(a.port, request("POST", "/v1/files", headers={"Content-Type": ctype},
                                     body=head + pig_jsonl(10, "x") + tail))
        assert r.status == 200, r.body[:300]
        job = a.json("POST", "/v1/fine_tuning/jobs", json_body={"model": MODEL, "training_file": json.loads(r.body)["id"]})
        model = a.json("GET", f"/v1/fine_tuning/jobs/{job['id']}")["fine_tuned_model"]
        tuned = {"model": model, "messages": [{"role": "user", "content": "hello"}]}
        assert b.http("POST", "/v1/chat/completions", json_body=tuned)[0] == 200   # B caches the model
        a.json("DELETE", f"/v1/models/{model}")
        status, _, body = b.http("POST", "/v1/chat/completions", json_body=tuned)
        assert status == 404 and b"model_not_found" in body, body[:300]
