"""The raw path (mockserver.db: `Database.raw_transaction`, `raw_read`, `Raw`) runs prebuilt Core statements on the
pooled DBAPI connection: the same SQL and parameters as Core sends, rows read back equal to Core's (types included,
JSON columns as Core parses them: psycopg parses them itself), errors as the same SQLAlchemy exception classes, a
transaction's commit / rollback / busy timeout as `Database.transaction`'s, and every statement reported to the
engine's `before_cursor_execute` listeners (tests/unit/test_statement_counts.py counts them). On a SQLite file and,
when MOCKSERVER_TEST_POSTGRES_URL is set, on PostgreSQL; and the lifecycle answers the same with the raw path as with Core
(`Database.raw` off)."""

from __future__ import annotations

import os
import uuid

import pytest
from sqlalchemy import event, insert
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError, OperationalError

from mockserver.db import Database, Raw
from mockserver.jobs import store
from mockserver.models.store import _CALLABLE, resolve_callable
from mockserver.owned import _attributes, insert_linked, insert_row, new_row, snapshot
from mockserver.tables import FileRow, JobRow, ModelRow

PG = os.environ.get("MOCKSERVER_TEST_POSTGRES_URL")


@pytest.fixture(params=["sqlite", "postgres"])
def db(request, tmp_path):
    if request.param == "postgres":
        if not PG:
            pytest.skip("MOCKSERVER_TEST_POSTGRES_URL is not set")
        database = Database(PG)
    else:
        database = Database(f"sqlite:///{tmp_path / 'state.db'}", durable=False)
    yield database
    database.dispose()


def _ids() -> tuple[str, str]:
    """A tenant and an id suffix of this test's own (a PostgreSQL database is shared between runs)."""
    mark = uuid.uuid4().hex[:12]
    return f"tenant-{mark}", mark


def _file(tenant: str, file_id: str, **values) -> FileRow:
    return new_row(FileRow, **{"id": file_id, "tenant": tenant, "filename": "t.jsonl", "purpose": "fine-tune",
                               "bytes": 12, "created_at": 1_760_000_000, "status": "processed", "path": f"files/{file_id}",
                               "deleted": False, "expires_at": None, "status_details": None} | values)


def _job(tenant: str, job_id: str, file_id: str) -> JobRow:
    """A job whose JSON columns hold what a stored one can: nested values, non-ASCII text, floats, integers past 64
    bits (written by json.dumps: orjson refuses them), a lone surrogate, empty containers, null."""
    return new_row(
        JobRow, id=job_id, tenant=tenant, organization_id="org-x", org_name="x", model="gpt-4o-mini-2024-07-18",
        status="validating_files", training_file=file_id, validation_file=None, seed=7, created_at=1_760_000_000,
        hyperparameters={"n_epochs": 3, "learning_rate_multiplier": 1.8, "batch_size": "auto"},
        method={"type": "supervised", "supervised": {"hyperparameters": {}}}, metadata_={"k": "東京 🚀"},
        integrations=[], result_files=[], stage_started=1_760_000_000.25, model_token="abcdefgh",
        log=[["e", 1764567000, "Créé", "info", "message", None], ["r", 1764567001.5, 0, 0.1, 1, 30]],
        forced=None, error={}, warnings={"big": 2**70, "s": "\ud800"}, plan=None, event_count=2)


def _same(a, b, *, but: tuple[str, ...] = ()) -> None:
    """Two rows (snapshots or result rows) hold equal values of the same types, field by field."""
    assert a._fields == b._fields
    for name, x, y in zip(a._fields, a, b, strict=True):
        if name not in but:
            assert (x, type(x)) == (y, type(y)), name


def _core_and_raw(db: Database, read):
    with db.engine.connect() as conn:
        core = read(conn)
    with db.raw_read() as raw:
        assert isinstance(raw, Raw)
        return core, read(raw)


def test_rows_written_and_read_raw_equal_cores(db: Database) -> None:
    tenant, mark = _ids()
    with db.raw_transaction() as raw:
        assert isinstance(raw, Raw)
        insert_row(raw, _file(tenant, f"file-r{mark}"))
        assert insert_linked(raw, _job(tenant, f"ftjob-r{mark}", f"file-r{mark}"), store._LINKS[False])
        assert not insert_linked(raw, _job(tenant, f"ftjob-n{mark}", f"file-none{mark}"), store._LINKS[False])
    with db.transaction() as conn:
        insert_row(conn, _file(tenant, f"file-c{mark}"))
        assert insert_linked(conn, _job(tenant, f"ftjob-c{mark}", f"file-c{mark}"), store._LINKS[False])
    for table, kind in ((FileRow, "file"), (JobRow, "ftjob")):
        core, raw_read = _core_and_raw(db, lambda c, t=table, k=kind: snapshot(c, t, tenant, f"{k}-r{mark}"))
        _same(core, raw_read)
        core_written, _ = _core_and_raw(db, lambda c, t=table, k=kind: snapshot(c, t, tenant, f"{k}-c{mark}"))
        _same(core_written, raw_read, but=("seq", "id", "path", "training_file"))   # written by Core: the same values
    assert _core_and_raw(db, lambda c: snapshot(c, JobRow, tenant, f"ftjob-n{mark}")) == (None, None)
    core, raw_read = _core_and_raw(db, lambda c: store.read_job(c, tenant=tenant, job_id=f"ftjob-r{mark}"))
    assert core == raw_read and raw_read.training == f"files/file-r{mark}"
    expected = _job(tenant, f"ftjob-r{mark}", f"file-r{mark}")
    assert [getattr(raw_read.row, attr) for attr, _ in _attributes(JobRow) if attr != "seq"] == \
        [getattr(expected, attr) for attr, _ in _attributes(JobRow) if attr != "seq"]


def test_the_finish_writes_raw_as_core_does(db: Database) -> None:
    """The compare-and-set UPDATE (its SET from the parameters' names), the model rows' executemany (a scalar
    subquery for their data), and the chat path's joined read of a model and its job's plan."""
    tenant, mark = _ids()
    for how, begin in (("r", db.raw_transaction), ("c", db.transaction)):
        with begin() as conn:
            insert_row(conn, _file(tenant, f"file-{how}{mark}"))
            insert_row(conn, _job(tenant, f"ftjob-{how}{mark}", f"file-{how}{mark}"))
        with begin() as conn:
            job = snapshot(conn, JobRow, tenant, f"ftjob-{how}{mark}")
            changes = {"status": "succeeded", "plan": {"n_epochs": 2, "n_examples": 10, "batch_size": 1},
                       "result_files": [f"file-x{mark}"], "log": job.log + [["s", 1.5, None]], "version": 1}
            params = {store._COLUMNS[k]: v for k, v in changes.items()} | {"cas_id": job.id, "cas_version": 0}
            assert conn.execute(store._UPDATE, params).rowcount == 1
            assert conn.execute(store._UPDATE, params).rowcount == 0   # the version moved: the compare-and-set fails
            conn.execute(store._INSERT_MODEL, [
                {"id": f"ft:{name}{how}{mark}", "tenant": tenant, "created": 5, "owned_by": "org-x", "base_model":
                 "gpt-4o-mini-2024-07-18", "job_id": job.id, "kind": kind, "step": step, "deleted": False,
                 "training_file_id": f"file-{how}{mark}"} for name, kind, step in (("a", "checkpoint", 5),
                                                                                    ("b", "fine_tuned", None))])
    for how in ("r", "c"):
        core, raw_read = _core_and_raw(db, lambda c, h=how: snapshot(c, JobRow, tenant, f"ftjob-{h}{mark}"))
        _same(core, raw_read)
        for name in ("a", "b"):
            model = f"ft:{name}{how}{mark}"
            core, raw_read = _core_and_raw(db, lambda c, m=model: c.execute(_CALLABLE, {"tenant": tenant,
                                                                                        "object_id": m}).first())
            assert tuple(core._fields) == raw_read._fields and tuple(core) == tuple(raw_read)
            assert raw_read.plan == {"n_epochs": 2, "n_examples": 10, "batch_size": 1}
            assert raw_read.training_file == f"files/file-{how}{mark}"
            core, raw_read = _core_and_raw(db, lambda c, m=model: resolve_callable(c, tenant=tenant, model_id=m))
            assert core == raw_read
        _, raw_model = _core_and_raw(db, lambda c, h=how: snapshot(c, ModelRow, tenant, f"ft:a{h}{mark}"))
        core_model, _ = _core_and_raw(db, lambda c: snapshot(c, ModelRow, tenant, f"ft:ac{mark}"))
        _same(core_model, raw_model, but=("seq", "id", "job_id", "training_file"))


def test_the_same_sql_and_parameters_reach_the_driver_and_every_statement_is_reported(db: Database) -> None:
    tenant, mark = _ids()
    sent: list[tuple] = []
    event.listen(db.engine, "before_cursor_execute", lambda c, cur, sql, params, ctx, many: sent.append((sql, params)))
    with db.raw_transaction() as raw:
        insert_row(raw, _file(tenant, f"file-{mark}"))
        snapshot(raw, FileRow, tenant, f"file-{mark}")
    raw_sent, sent[:] = list(sent), []
    with db.transaction() as conn:
        insert_row(conn, _file(tenant, f"file-{mark}", id=f"file-{mark}"[:-1] + "z"))
        snapshot(conn, FileRow, tenant, f"file-{mark}")
    assert len(raw_sent) == len(sent) == 2
    assert [sql for sql, _ in raw_sent] == [sql for sql, _ in sent]
    assert raw_sent[1][1] == sent[1][1]   # the read's parameters, as the driver gets them


def test_a_transaction_commits_on_success_and_rolls_back_when_the_block_raises(db: Database) -> None:
    tenant, mark = _ids()
    with pytest.raises(RuntimeError), db.raw_transaction() as raw:
        insert_row(raw, _file(tenant, f"file-a{mark}"))
        raise RuntimeError
    with db.raw_transaction() as raw:
        insert_row(raw, _file(tenant, f"file-b{mark}"))
    with db.engine.connect() as conn:   # Core's users of the pool read what the raw path committed, and only that
        assert snapshot(conn, FileRow, tenant, f"file-a{mark}") is None
        assert snapshot(conn, FileRow, tenant, f"file-b{mark}") is not None
    with pytest.raises(IntegrityError), db.raw_transaction() as raw:   # the class the callers catch
        insert_row(raw, _file(tenant, f"file-c{mark}"))
        insert_row(raw, _file(tenant, f"file-b{mark}"))   # a duplicate id: the transaction's first row goes too
    with db.session() as s:
        assert snapshot(s, FileRow, tenant, f"file-c{mark}") is None
    assert db.engine.pool.checkedout() == 0
    fairy = db.engine.raw_connection()   # no connection was given back inside a transaction
    try:
        driver = fairy.driver_connection
        assert not driver.in_transaction if db.is_sqlite else driver.info.transaction_status == 0
    finally:
        fairy.close()


def test_a_raw_transaction_that_does_not_wait_leaves_its_connection_waiting_as_before(tmp_path) -> None:
    """As tests/unit/test_advance_on_loop.py's test of `Database.transaction(wait=False)`, for `raw_transaction`."""
    import sqlite3

    db = Database(f"sqlite:///{tmp_path / 'state.db'}", durable=False)
    db.engine.dispose()   # one connection from here on
    tenant, mark = _ids()
    other = sqlite3.connect(db.file, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(OperationalError, match="locked"), db.raw_transaction(wait=False) as raw:
            insert_row(raw, _file(tenant, f"file-{mark}"))
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert db.engine.pool.checkedin() == 1
    with db.raw_read() as raw:
        assert raw.driver.execute("PRAGMA busy_timeout").fetchone()[0] == 30000
        assert not raw.driver.in_transaction
    db.dispose()


def test_an_in_memory_database_keeps_core(tmp_path) -> None:
    """Its one connection is also the one the clock policy is read on (Services.policy): no raw path there."""
    db = Database("sqlite://", durable=False)
    with db.raw_transaction() as conn:
        assert isinstance(conn, Connection)
    with db.raw_read() as conn:
        assert isinstance(conn, Connection)
    db.dispose()


def test_a_statement_core_would_complete_at_execution_is_refused(db: Database) -> None:
    """An INSERT that leaves a column with a Python-side default out (Core evaluates it per execution): a TypeError,
    not a row with null there."""
    tenant, mark = _ids()
    with pytest.raises(TypeError, match="defaults"), db.raw_transaction() as raw:
        raw.execute(insert(FileRow.__table__), {"id": f"file-{mark}", "tenant": tenant, "filename": "f",
                                                "purpose": "fine-tune", "bytes": 1, "created_at": 1, "status": "p",
                                                "path": "p"})


def test_statements_built_per_call_are_not_kept_past_the_bound(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    from sqlalchemy import select

    import mockserver.db

    t = FileRow.__table__
    tenant, _ = _ids()
    monkeypatch.setattr(mockserver.db, "_PREPARED", len(db._prepared) + 2)
    with db.raw_read() as raw:
        for n in range(5):
            assert raw.execute(select(t.c.id).where(t.c.tenant == tenant, t.c.bytes == n)).all() == []
    assert len(db._prepared) == mockserver.db._PREPARED


WALL = 1_760_000_000.0


def _lifecycle(raw: bool, monkeypatch: pytest.MonkeyPatch, **settings) -> tuple[list[tuple[int, bytes]], int]:
    """Every answer of the lifecycle and its refusals (an upload, a job, the retrieve that finishes it, its events and
    checkpoints, a chat completion on the tuned model; a job on a missing file, a missing job, a missing model), the
    raw path on or off (`Database.raw`: Core instead); and how many statements went through `Raw.execute`."""
    import orjson

    from mockserver.testing import Emulator
    from tests.conftest import pig_jsonl
    from tests.unit.test_advance_on_loop import _form

    ran = []
    real = Raw.execute
    monkeypatch.setattr(Raw, "execute", lambda self, *a: ran.append(1) or real(self, *a))
    out = []
    with Emulator(transitions="immediate", wall=lambda: WALL, **settings) as emu:
        emu.services.db.raw = raw
        if "database_url" not in settings:   # (a shared PostgreSQL database: ids drawn at random there)
            emu.control("seed", {"seed": 5})

        def call(method: str, path: str, **kw) -> dict:
            status, _, body = emu.request(method, path, **kw)
            out.append((status, body))
            return orjson.loads(body)

        f = call("POST", "/v1/files", body=_form(pig_jsonl(10)),
                 headers={"content-type": "multipart/form-data; boundary=b0und4ry"})["id"]
        job = call("POST", "/v1/fine_tuning/jobs", json={"model": "gpt-4o-mini-2024-07-18", "training_file": f,
                                                          "seed": 3, "metadata": {"k": "東京"}})["id"]
        model = call("GET", f"/v1/fine_tuning/jobs/{job}")["fine_tuned_model"]
        for path in (f"/v1/fine_tuning/jobs/{job}/events?limit=30", f"/v1/fine_tuning/jobs/{job}/checkpoints",
                     f"/v1/fine_tuning/jobs/{job}", "/v1/fine_tuning/jobs/ftjob-missing"):
            call("GET", path)
        for m in (model, "ft:gpt-4o-mini-2024-07-18:missing::abcdefgh"):
            call("POST", "/v1/chat/completions", json={"model": m, "messages": [{"role": "user", "content": "体重?"}]})
        call("POST", "/v1/fine_tuning/jobs", json={"model": "gpt-4o-mini-2024-07-18", "training_file": "file-none"})
    return out, len(ran)


def _masked(answers: list[tuple[int, bytes]]) -> list[tuple[int, bytes]]:
    """Ids drawn at random blanked out (the model's name holds its job's random token; a chat answer's id is random)."""
    import re

    pattern = re.compile(rb"(file|ftjob|ftevent|ftckpt|chatcmpl)[_-][A-Za-z0-9]+|ft:[^\"]+|\"system_fingerprint\":\"[^\"]*\"")
    return [(status, pattern.sub(b"*", body)) for status, body in answers]


def test_the_lifecycle_answers_the_same_on_the_raw_path_as_on_core(monkeypatch: pytest.MonkeyPatch) -> None:
    """Byte for byte, seeded, on a SQLite file."""
    raw, ran = _lifecycle(True, monkeypatch)
    core, none = _lifecycle(False, monkeypatch)
    assert ran >= 8 and none == 0
    assert raw == core
    assert [status for status, _ in raw] == [200] * 6 + [404, 200, 404, 400]


@pytest.mark.skipif(not PG, reason="MOCKSERVER_TEST_POSTGRES_URL is not set")
def test_the_lifecycle_answers_the_same_on_the_raw_path_as_on_core_on_postgres(monkeypatch: pytest.MonkeyPatch) -> None:
    """On PostgreSQL, with the ids (drawn at random there: the database is shared) blanked out."""
    raw, ran = _lifecycle(True, monkeypatch, database_url=PG)
    core, none = _lifecycle(False, monkeypatch, database_url=PG)
    assert ran >= 8 and none == 0
    assert _masked(raw) == _masked(core)
    assert [status for status, _ in raw] == [200] * 6 + [404, 200, 404, 400]


def test_a_transaction_that_does_not_wait_reports_the_statements_core_reports(db: Database) -> None:
    """`raw_transaction(wait=False)` sends what `transaction(wait=False)` sends, and the listeners see it alike: on
    PostgreSQL its SET LOCAL lock_timeout too (Core's exec_driver_sql reports it), so a count of statements on the
    raw path misses none (tests/unit/test_statement_counts.py counts this way)."""
    tenant, mark = _ids()
    sent: list[str] = []
    event.listen(db.engine, "before_cursor_execute", lambda c, cur, sql, *a: sent.append(sql))
    with db.raw_transaction(wait=False) as raw:
        assert isinstance(raw, Raw)
        assert snapshot(raw, FileRow, tenant, f"file-{mark}") is None
    raw_sent, sent[:] = list(sent), []
    with db.transaction(wait=False) as conn:
        assert snapshot(conn, FileRow, tenant, f"file-{mark}") is None
    assert raw_sent == sent and len(sent) == (1 if db.is_sqlite else 2)


@pytest.mark.skipif(not PG, reason="MOCKSERVER_TEST_POSTGRES_URL is not set")
def test_a_connection_lost_inside_the_block_raises_as_core_raises(caplog: pytest.LogCaptureFixture) -> None:
    """The server ends the connection while the block runs, and the block then raises on its own (a 404, a lost
    compare-and-set): the rollback fails on both paths, as SQLAlchemy's OperationalError (connection invalidated,
    the class advance_on_loop and write_on_loop catch), not psycopg's own, and the pool is left with no dead
    connection to reset."""
    from sqlalchemy import text

    db = Database(PG)
    tenant, mark = _ids()
    try:
        for begin in (db.raw_transaction, db.transaction):
            caplog.clear()
            with pytest.raises(OperationalError) as e, begin() as conn:
                assert snapshot(conn, FileRow, tenant, f"file-{mark}") is None
                driver = conn.driver if isinstance(conn, Raw) else conn.connection.driver_connection
                with db.engine.connect() as other:
                    other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": driver.info.backend_pid})
                    other.commit()
                raise LookupError("the block's own error")
            assert e.value.connection_invalidated, begin
            assert "Exception during reset" not in caplog.text, begin
            assert db.engine.pool.checkedout() == 0
        with db.raw_read() as raw:   # the pool hands out a live connection again
            assert snapshot(raw, FileRow, tenant, f"file-{mark}") is None
    finally:
        db.dispose()
