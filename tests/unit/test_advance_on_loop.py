"""A retrieve or events page advances a job on the event loop (jobs.store.advance_on_loop) when the advance
validates no file's bytes — its plan is known, validation is not due, or the verdict is in the caches — and on a
worker thread otherwise; either way the answers are the same, byte for byte."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from mockserver.jobs import routes, store
from mockserver.testing import Emulator
from tests.conftest import pig_jsonl

WALL = 1_760_000_000.0


def _upload(emu: Emulator, data: bytes) -> str:
    import orjson

    status, _, body = emu.request("POST", "/v1/files", body=_form(data), headers={
        "content-type": "multipart/form-data; boundary=b0und4ry"})
    assert status == 200, body
    return orjson.loads(body)["id"]


def _form(data: bytes) -> bytes:
    return (b'--b0und4ry\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nfine-tune\r\n--b0und4ry\r\n'
            b'Content-Disposition: form-data; name="file"; filename="t.jsonl"\r\n\r\n' + data + b"\r\n--b0und4ry--\r\n")


def _job(emu: Emulator, training: str, seed: int, **extra: object) -> str:
    import orjson

    status, _, body = emu.request("POST", "/v1/fine_tuning/jobs", json={
        "model": "gpt-4o-mini-2024-07-18", "training_file": training, "seed": seed, **extra})
    assert status == 200, body
    return orjson.loads(body)["id"]


def _answers(emu: Emulator, paths: list[str]) -> list[tuple[int, bytes]]:
    return [emu.request("GET", p)[::2] for p in paths]


def _scenario(hops: list[str]) -> list[tuple[int, bytes]]:
    """Every answer of: two jobs on the same bytes finished at once (the second one's verdict is cached), one whose
    file is deleted first, and jobs moved through manual time (polled while validating, queued, running, paused)."""
    out = []
    with Emulator(transitions="immediate", wall=lambda: WALL) as emu:
        emu.control("seed", {"seed": 5})
        first, second, gone = (_upload(emu, pig_jsonl(10)) for _ in range(3))
        jobs = [_job(emu, first, 11), _job(emu, second, 12), _job(emu, gone, 13)]
        assert emu.request("DELETE", f"/v1/files/{gone}")[0] == 200
        hops.append("immediate")
        for j in jobs:
            out += _answers(emu, [f"/v1/fine_tuning/jobs/{j}", f"/v1/fine_tuning/jobs/{j}/events?limit=7",
                                  f"/v1/fine_tuning/jobs/{j}/checkpoints"])
    with Emulator(transitions="manual", wall=lambda: WALL) as emu:
        emu.control("seed", {"seed": 6})
        emu.set_transitions("manual", time_scale=1)
        f = _upload(emu, pig_jsonl(10))
        a, b = _job(emu, f, 21), _job(emu, f, 22, hyperparameters={"n_epochs": 2})
        hops.append("manual")
        for seconds in (1, 30, 15, 9, 7, 1000):
            emu.advance(seconds)
            if seconds == 9:
                assert emu.request("POST", f"/v1/fine_tuning/jobs/{a}/pause", json={})[0] == 200
            if seconds == 7:
                assert emu.request("POST", f"/v1/fine_tuning/jobs/{a}/resume", json={})[0] == 200
            for j in (a, b):
                out += _answers(emu, [f"/v1/fine_tuning/jobs/{j}/events", f"/v1/fine_tuning/jobs/{j}"])
    return out


@pytest.fixture
def hops(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """What went to a worker thread (`routes._run`), after markers the scenario adds."""
    seen: list[str] = []
    real = routes._run

    async def counting(fn, /, **kwargs):
        seen.append(fn.__name__)
        return await real(fn, **kwargs)

    monkeypatch.setattr(routes, "_run", counting)
    return seen


def test_answers_are_the_same_on_the_loop_and_on_a_worker_thread(hops: list[str],
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    on_loop = _scenario(hops)
    assert hops[:hops.index("manual")] == ["immediate", "advance_job"], hops   # only the first file is validated
    # the first poll once validation is due, then the pause and the resume (actions always go to a worker thread)
    assert hops[hops.index("manual"):] == ["manual", "list_events", "advance_job", "advance_job"], hops
    hops.clear()
    monkeypatch.setattr(store, "advance_on_loop", lambda svc, read, view=None: None)
    on_threads = _scenario(hops)
    assert len([h for h in hops if h not in ("immediate", "manual")]) > 10
    assert on_loop == on_threads
    assert all(status == 200 for status, _ in on_loop)


def test_a_conflict_on_the_loop_goes_to_the_worker_thread(hops: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """A compare-and-set lost on the loop (another process advanced the job first) is not retried there."""
    real = store._attempt

    def losing(*args, **kwargs):
        monkeypatch.setattr(store, "_attempt", real)
        raise store._Conflict()

    with Emulator(transitions="immediate") as emu:
        f = _upload(emu, pig_jsonl(10))
        _ = emu.request("GET", f"/v1/fine_tuning/jobs/{_job(emu, f, 1)}")   # the verdict is cached from here on
        job = _job(emu, _upload(emu, pig_jsonl(10)), 2)
        hops.clear()
        monkeypatch.setattr(store, "_attempt", losing)
        status, _, body = emu.request("GET", f"/v1/fine_tuning/jobs/{job}")
    assert status == 200 and b'"succeeded"' in body
    assert hops == ["advance_job"]


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest) -> Iterator[dict]:
    """The Emulator's database: its own SQLite file, or a scratch PostgreSQL database (skipped without one)."""
    if request.param == "sqlite":
        yield {}
        return
    from tests.reliability._server import pg_database_or_skip

    with pg_database_or_skip() as url:
        yield {"database_url": url}


def _sqlite_write_lock(emu: Emulator) -> Callable[[], Callable[[], None]]:
    """Takes SQLite's write lock as another process's transaction holds it; returns its release. The database's
    own busy timeout is made longer than the holder's patience, so a write that waited on the loop would be seen
    waiting, whatever the machine's speed."""
    import sqlite3

    from sqlalchemy import event

    engine = emu.services.db.engine
    event.listen(engine, "connect", lambda dbapi, _: dbapi.execute("PRAGMA busy_timeout=600000"))
    engine.dispose()   # every connection from here on waits up to 10 minutes for a lock

    def take() -> Callable[[], None]:
        other = sqlite3.connect(emu.services.db.file, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")

        def release() -> None:
            other.execute("ROLLBACK")
            other.close()
        return release
    return take


def _pg_row_lock(emu: Emulator, sql: str, *params: object) -> Callable[[], Callable[[], None]]:
    """Takes the row locks `sql` (a SELECT … FOR UPDATE) takes, as another process's transaction holds them
    (PostgreSQL's own lock_timeout is 0: no limit); returns their release."""
    import psycopg

    def take() -> Callable[[], None]:
        other = psycopg.connect(emu.settings.database_url.replace("postgresql+psycopg://", "postgresql://", 1))
        assert other.execute(sql, params).fetchall()   # (in a transaction: psycopg's default)

        def release() -> None:
            other.rollback()
            other.close()
        return release
    return take


def _loop_stays_free(emu: Emulator, monkeypatch: pytest.MonkeyPatch, take: Callable[[], Callable[[], None]],
                     method: str, path: str, body: bytes = b"", headers: tuple = ()
                     ) -> tuple[int, bytes, list[tuple[bool, bool]]]:
    """Sends `method path` to the app while another connection holds the lock `take` takes, and once that request
    has begun its first transaction that does not wait (`Database.transaction(wait=False)`), a GET /v1/models. The
    lock is released only once the second request was answered (or after a minute: the bound of the failing case):
    a loop held up by the first request's wait answers the second one only after that. Returns the first request's
    status and body, and each transaction's (wait, begun on the event loop) in order."""
    import asyncio
    import threading
    from contextlib import contextmanager

    from mockserver.testing import DEFAULT_KEY, asgi_request

    db = emu.services.db
    tried, answered, held = asyncio.Event(), threading.Event(), threading.Event()
    begun: list[tuple[bool, bool]] = []

    def watch(name: str) -> None:
        real = getattr(db, name)

        @contextmanager
        def watched(*, wait: bool = True):
            begun.append((wait, asyncio._get_running_loop() is emu.bridge.loop))
            if not wait:
                tried.set()
            with real(wait=wait) as conn:
                yield conn

        monkeypatch.setattr(db, name, watched)

    watch("transaction")
    watch("raw_transaction")   # (a file database: it does not go through `transaction`)
    patience: list[bool] = []

    def hold() -> None:
        release = take()
        held.set()
        patience.append(answered.wait(60))
        release()

    auth = [(b"authorization", f"Bearer {DEFAULT_KEY}".encode())]

    async def scenario() -> tuple[tuple, tuple]:
        first = asyncio.ensure_future(asgi_request(emu.app, method, f"http://emulator.test{path}",
                                                   auth + list(headers), body))
        trying = asyncio.ensure_future(tried.wait())
        await asyncio.wait([trying, first], return_when=asyncio.FIRST_COMPLETED)   # (never tried: a failure)
        trying.cancel()
        other = await asgi_request(emu.app, "GET", "http://emulator.test/v1/models", auth, b"")
        answered.set()
        return await first, other

    holder = threading.Thread(target=hold)
    holder.start()
    assert held.wait(60)
    try:
        (status, _, out), (other_status, _, _) = asyncio.run_coroutine_threadsafe(
            scenario(), emu.bridge.loop).result(600)
    finally:
        answered.set()
        holder.join()
    assert patience == [True]   # the other request was answered while the lock was still held
    assert other_status == 200
    return status, out, begun


def test_a_lock_held_elsewhere_does_not_hold_up_the_loop(backend: dict, hops: list[str],
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """While another connection (another process, or a worker thread of this one) holds SQLite's write lock, or on
    PostgreSQL the job's row lock (SELECT … FOR UPDATE), the advance on the loop does not wait for it: it goes to a
    worker thread, and the loop answers another request in the meantime."""
    with Emulator(transitions="manual", **backend) as emu:
        emu.set_transitions("manual", time_scale=1)
        job = _job(emu, _upload(emu, pig_jsonl(10)), 2)
        emu.advance(30)
        assert emu.request("GET", f"/v1/fine_tuning/jobs/{job}")[0] == 200   # validated: the plan is known
        emu.advance(1000)                                                     # so this advance runs on the loop
        take = (_sqlite_write_lock(emu) if emu.services.db.is_sqlite else
                _pg_row_lock(emu, "SELECT id FROM jobs WHERE id = %s FOR UPDATE", job))
        hops.clear()
        status, body, begun = _loop_stays_free(emu, monkeypatch, take, "GET", f"/v1/fine_tuning/jobs/{job}")
    assert status == 200 and b'"succeeded"' in body
    assert hops == ["advance_job"]   # the advance went to a worker thread, which waited for the lock there
    assert begun == [(False, True), (True, False)]


def test_a_transaction_that_does_not_wait_leaves_its_connection_waiting_as_before(tmp_path) -> None:
    """`Database.transaction(wait=False)` refuses a write lock held elsewhere and gives its pooled connection
    back with the database's busy timeout: the next user of the connection waits for a lock as before."""
    import sqlite3

    from sqlalchemy import update
    from sqlalchemy.exc import OperationalError

    from mockserver.db import Database
    from mockserver.tables import Meta

    db = Database(f"sqlite:///{tmp_path / 'state.db'}", durable=False)
    db.engine.dispose()   # one connection from here on
    other = sqlite3.connect(db.file, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(OperationalError, match="locked"), db.transaction(wait=False) as conn:
            conn.execute(update(Meta).where(Meta.key == "schema_version").values(key=Meta.key))
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert db.engine.pool.checkedin() == 1
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000
    db.dispose()


def test_on_postgres_a_transaction_that_does_not_wait_refuses_a_row_lock_and_leaves_the_connection_patient() -> None:
    """On PostgreSQL, `Database.transaction(wait=False)` refuses a row lock held elsewhere (LockNotAvailable,
    SQLSTATE 55P03, as SQLAlchemy's OperationalError: what the callers fall back on), and its lock_timeout was the
    transaction's only: the pooled connection waits for locks again afterwards."""
    import psycopg
    from sqlalchemy import update
    from sqlalchemy.exc import OperationalError

    from mockserver.db import Database
    from mockserver.tables import Meta
    from tests.reliability._server import pg_database_or_skip

    with pg_database_or_skip() as url:
        db = Database(url, durable=False)
        db.engine.dispose()   # one connection from here on
        other = psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://", 1))
        try:
            other.execute("SELECT key FROM meta WHERE key = 'schema_version' FOR UPDATE")
            for kind in (db.transaction, db.raw_transaction):
                with pytest.raises(OperationalError) as refused, kind(wait=False) as conn:
                    conn.execute(update(Meta).where(Meta.key == "schema_version").values(key=Meta.key))
                assert isinstance(refused.value.orig, psycopg.errors.LockNotAvailable), kind
                assert refused.value.orig.sqlstate == "55P03"
        finally:
            other.rollback()
            other.close()
        assert db.engine.pool.checkedin() == 1
        with db.engine.connect() as conn:
            assert conn.exec_driver_sql("SHOW lock_timeout").scalar() == "0"
        db.dispose()


def test_an_ended_job_is_answered_from_the_caches_until_a_reset() -> None:
    """The row of a job that has ended is kept (`caches.jobs`): its retrieve and events pages read nothing; a reset
    moves the cache generation, so a seeded run that makes a job with the same id again answers with the new one."""
    from sqlalchemy import event

    def run(emu: Emulator, epochs: int) -> tuple[str, bytes]:
        f = _upload(emu, pig_jsonl(10))
        job = _job(emu, f, 3, hyperparameters={"n_epochs": epochs})
        emu.request("GET", f"/v1/fine_tuning/jobs/{job}")   # finishes it
        return job, emu.request("GET", f"/v1/fine_tuning/jobs/{job}/events")[2]

    with Emulator(transitions="immediate", wall=lambda: WALL) as emu:
        emu.control("seed", {"seed": 9})
        job, events = run(emu, 1)
        statements: list[str] = []
        event.listen(emu.services.db.engine, "before_cursor_execute", lambda c, cur, sql, *a: statements.append(sql))
        assert emu.request("GET", f"/v1/fine_tuning/jobs/{job}")[0] == 200
        assert emu.request("GET", f"/v1/fine_tuning/jobs/{job}/events?limit=3")[0] == 200
        assert emu.request("GET", f"/v1/fine_tuning/jobs/{job}/checkpoints")[0] == 200
        assert statements == []
        emu.control("reset")
        assert emu.request("GET", f"/v1/fine_tuning/jobs/{job}")[0] == 404
        emu.control("seed", {"seed": 9})
        again, events_again = run(emu, 2)
        assert again == job and events_again != events and b'"total_steps":20' in events_again


def _upload_and_create(emu: Emulator, monkeypatch: pytest.MonkeyPatch | None) -> list[tuple[int, bytes]]:
    """A seeded upload then a job create on its file; with `monkeypatch`, each while another connection holds
    SQLite's write lock (`_loop_stays_free`), which they must not wait for on the loop: they are tried there once
    and redone on a worker thread."""
    import orjson

    emu.control("seed", {"seed": 8})
    form = _form(pig_jsonl(10))
    ctype = (b"content-type", b"multipart/form-data; boundary=b0und4ry")
    if monkeypatch is None:
        upload = emu.request("POST", "/v1/files", body=form, headers={ctype[0].decode(): ctype[1].decode()})[::2]
    else:
        status, body, begun = _loop_stays_free(emu, monkeypatch, _sqlite_write_lock(emu), "POST", "/v1/files", form,
                                               (ctype,))
        assert begun == [(False, True), (True, False)]   # refused on the loop, recorded on a worker thread
        upload = (status, body)
        monkeypatch.undo()
    create = orjson.dumps({"model": "gpt-4o-mini-2024-07-18", "training_file": orjson.loads(upload[1])["id"]})
    if monkeypatch is None:
        job = emu.request("POST", "/v1/fine_tuning/jobs", body=create,
                          headers={"content-type": "application/json"})[::2]
    else:
        status, body, begun = _loop_stays_free(emu, monkeypatch, _sqlite_write_lock(emu), "POST",
                                               "/v1/fine_tuning/jobs", create, ((b"content-type", b"application/json"),))
        assert begun == [(False, True), (True, False)]
        job = (status, body)
    return [upload, job, emu.request("GET", f"/v1/fine_tuning/jobs/{orjson.loads(job[1])['id']}")[::2]]


def test_an_upload_and_a_job_create_do_not_wait_on_the_loop_for_the_write_lock(monkeypatch: pytest.MonkeyPatch) -> None:
    """While another connection holds SQLite's write lock, the upload's and the job create's INSERTs are refused on
    the loop at once and made on a worker thread, which waits for the lock there; the loop answers another request
    meanwhile. The answers are those of a run without the lock, byte for byte: the retried create draws its seeded
    ids (job id, seed, model token) once, and the upload's bytes are published once under the same id — nothing
    left in the blob store that no row names."""
    with Emulator(transitions="immediate", wall=lambda: WALL) as emu:
        plain = _upload_and_create(emu, None)
    with Emulator(transitions="immediate", wall=lambda: WALL) as emu:
        held = _upload_and_create(emu, monkeypatch)
        blobs = sorted(p.name for p in emu.settings.data_dir.rglob("*") if p.is_file() and p.name.startswith("file-"))
        file_id = __import__("orjson").loads(held[0][1])["id"]
        content = emu.request("GET", f"/v1/files/{file_id}/content")
    assert [status for status, _ in held] == [200, 200, 200]
    assert held == plain
    assert blobs == [file_id], blobs
    assert content[0] == 200 and content[2] == pig_jsonl(10)


def test_an_upload_whose_row_cannot_be_written_leaves_no_bytes(monkeypatch: pytest.MonkeyPatch) -> None:
    """The upload's bytes are published before its INSERT (once, for both attempts): when the INSERT fails on the
    worker thread too, the request fails and the published bytes are removed (before: left until the next
    start's sweep)."""
    from sqlalchemy.exc import OperationalError

    from mockserver.files import store as files

    def failing(conn, **_):
        raise OperationalError("INSERT", {}, Exception("disk I/O error"))

    with Emulator(transitions="immediate") as emu:
        monkeypatch.setattr(files, "record_file", failing)
        with pytest.raises(OperationalError, match="disk I/O"):   # (the in-process bridge re-raises after its 500)
            emu.request("POST", "/v1/files", body=_form(pig_jsonl(10)),
                        headers={"content-type": "multipart/form-data; boundary=b0und4ry"})
        left = [p.name for p in emu.settings.data_dir.rglob("*") if p.is_file() and p.name.startswith("file-")]
    assert left == []


def test_an_upload_whose_retry_finds_its_row_written_keeps_the_bytes(monkeypatch: pytest.MonkeyPatch) -> None:
    """The loop's attempt commits its row but is told it failed (an OperationalError at COMMIT: a connection lost
    there leaves it unknown whether the commit happened); the worker thread's attempt then finds the row there (its
    INSERT: IntegrityError). The request fails, but the row names the published bytes: they stay, and the file's
    content downloads (before: removed as if no row could name them)."""
    from contextlib import contextmanager

    from sqlalchemy.exc import IntegrityError, OperationalError

    from mockserver.db import Database

    real = Database.raw_transaction
    tries: list[bool] = []

    @contextmanager
    def lost_at_commit(self, *, wait: bool = True):
        tries.append(wait)
        with real(self, wait=wait) as conn:
            yield conn
        if not wait:   # committed, and then the answer was lost
            raise OperationalError("COMMIT", {}, Exception("server closed the connection unexpectedly"))

    with Emulator(transitions="immediate") as emu:
        monkeypatch.setattr(Database, "raw_transaction", lost_at_commit)
        with pytest.raises(IntegrityError):   # (the in-process bridge re-raises after its 500)
            emu.request("POST", "/v1/files", body=_form(pig_jsonl(10)),
                        headers={"content-type": "multipart/form-data; boundary=b0und4ry"})
        monkeypatch.undo()
        assert tries == [False, True]
        listed = emu.request("GET", "/v1/files")
        file_id = __import__("orjson").loads(listed[2])["data"][0]["id"]
        content = emu.request("GET", f"/v1/files/{file_id}/content")
    assert content[0] == 200 and content[2] == pig_jsonl(10)
