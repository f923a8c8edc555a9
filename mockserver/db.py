"""Engine and sessions: SQLite in WAL mode by default, PostgreSQL by URL; schema version kept in Meta."""

from __future__ import annotations

import fcntl
import json
import os
import threading
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import event, insert, select, text, update
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import StaticPool
from sqlmodel import Session, SQLModel, create_engine

from mockserver import migrations
from mockserver.dbfile import sqlite_file
from mockserver.tables import SCHEMA_VERSION, Meta

__all__ = ["Database", "SchemaError"]


SchemaError = migrations.SchemaError


class Database:
    """Owns the engine; `session()` yields a session that commits on success."""

    def __init__(self, url: str, *, durable: bool = True) -> None:
        self.url = url
        self.durable = durable
        self.is_sqlite = url.startswith("sqlite")
        self.file = sqlite_file(url)   # the SQLite file (symlinks resolved): the lock files beside it are named from it
        self.engine = self._make_engine(url)
        self._migrate()

    def _make_engine(self, url: str) -> Engine:
        if not self.is_sqlite:
            return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20, json_serializer=_json_dumps)
        if url in ("sqlite://", "sqlite:///:memory:"):
            engine = create_engine(url, connect_args={"check_same_thread": False}, poolclass=StaticPool,
                                   json_serializer=_json_dumps)
        else:
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
            engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30},
                                   json_serializer=_json_dumps)
        event.listen(engine, "connect", _sqlite_pragmas if self.durable else _sqlite_pragmas_throwaway)
        return engine

    def _migrate(self) -> None:
        """Bring the schema to the newest migration; safe when several processes start at once.

        An empty database gets the tables from the models and is stamped with the newest revision (the
        same schema the migrations build; tests/unit/test_migrations.py checks that); any other one is
        upgraded by Alembic from wherever it is, a database from before migrations from the baseline.
        """
        with _migration_lock(self) as conn:
            migrations.upgrade(conn, SQLModel.metadata)
            _check_version(conn)

    @contextmanager
    def session(self) -> Iterator[Session]:
        with Session(self.engine, expire_on_commit=False) as s:
            try:
                yield s
                s.commit()
            except BaseException:
                s.rollback()
                raise

    @contextmanager
    def transaction(self, *, wait: bool = True) -> Iterator[Connection]:
        """A Core connection in a transaction that commits on success, rolls back when the block raises: for
        work that only runs Core statements (no ORM objects), ~40 µs cheaper than `session()` per transaction.
        Nothing written here changes a cached fact; a write that does runs in a session (`cache.bump`).
        `wait=False` (a write made on the event loop, whose caller can retry it on a worker thread): on SQLite,
        a write while another connection holds the write lock raises OperationalError at once instead of
        waiting for it (busy_timeout 0 for the transaction's length)."""
        with self.engine.connect() as conn:
            patient = wait or self.file is None   # (PostgreSQL; an in-memory database has one connection)
            if not patient:
                conn.connection.driver_connection.execute("PRAGMA busy_timeout=0")
            try:
                conn.begin()
                try:
                    yield conn
                    conn.commit()
                except BaseException:
                    conn.rollback()
                    raise
            finally:
                if not patient:
                    conn.connection.driver_connection.execute(f"PRAGMA busy_timeout={_BUSY_MS}")

    @contextmanager
    def try_lock(self, name: str) -> Iterator[bool]:
        """True while this caller is the only one — in any process sharing the database — inside a
        `try_lock(name)` block; False at once when another one is (never waits). A dead process's locks
        go with it: a PostgreSQL session advisory lock, or a byte-range lock on `<database>.locks`."""
        slot = zlib.crc32(name.encode()) & 0x7FFFFFFF
        mine = (self.file or self.url, slot)
        with _REGISTRY:  # POSIX record locks do not exclude the process that holds them: this does
            if mine in _HELD:
                busy = True
            else:
                busy = False
                _HELD.add(mine)
        if busy:
            yield False
            return
        try:
            with self._cross_process_lock(slot) as got:
                yield got
        finally:
            with _REGISTRY:
                _HELD.discard(mine)

    @contextmanager
    def _cross_process_lock(self, slot: int) -> Iterator[bool]:
        if not self.is_sqlite:
            with self.engine.connect() as conn:
                key = {"space": _WORK_LOCKS, "slot": slot}
                got = bool(conn.execute(text("SELECT pg_try_advisory_lock(:space, :slot)"), key).scalar())
                conn.commit()
                try:
                    yield got
                finally:
                    if got:
                        conn.execute(text("SELECT pg_advisory_unlock(:space, :slot)"), key)
                        conn.commit()
            return
        if self.file is None:
            yield True  # in memory: one process only
            return
        with _lock_file(self.file + ".locks") as fd:
            try:
                fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, slot)
            except OSError:
                yield False
                return
            try:
                yield True
            finally:
                fcntl.lockf(fd, fcntl.LOCK_UN, 1, slot)

    def dispose(self) -> None:
        self.engine.dispose()


def locked_meta(session: Session, key: str) -> Meta:
    """The `Meta` row `key`, write-locked for the session's transaction; created first (value null) when
    missing. Read-modify-writes of one shared setting from several processes then serialize: none is
    lost, and two processes creating the row at once do not fail (ON CONFLICT DO NOTHING waits for the
    first creator, then inserts nothing)."""
    dialect = sqlite
    if session.get_bind().dialect.name == "postgresql":   # (imported with a PostgreSQL engine, not at start-up)
        from sqlalchemy.dialects import postgresql as dialect
    session.execute(dialect.insert(Meta).values(key=key, value=None).on_conflict_do_nothing(index_elements=["key"]))
    session.execute(update(Meta).where(Meta.key == key).values(key=Meta.key))
    return session.get(Meta, key, populate_existing=True)


_BUSY_MS = 30000   # how long a SQLite write waits for another connection's write lock (but see `transaction`)
_MIGRATION_LOCK = 0x6D6F636B  # "mock"
_WORK_LOCKS = 0x776F726B     # "work": the key space of try_lock (two-key advisory locks)
_REGISTRY = threading.Lock()
_HELD: set[tuple[str, int]] = set()             # try_lock slots held in this process, by database file (or URL)
_LOCK_FILES: dict[str, tuple[int, int]] = {}    # lock file → (fd, users) in this process


@contextmanager
def _lock_file(path: str) -> Iterator[int]:
    """One descriptor per lock file per process, open while a lock on it is being taken or held: closing
    any descriptor of a file drops every POSIX record lock the process holds on it."""
    with _REGISTRY:
        fd, users = _LOCK_FILES.get(path) or (os.open(path, os.O_RDWR | os.O_CREAT, 0o644), 0)
        _LOCK_FILES[path] = (fd, users + 1)
    try:
        yield fd
    finally:
        with _REGISTRY:
            fd, users = _LOCK_FILES[path]
            if users == 1:
                del _LOCK_FILES[path]
                os.close(fd)
            else:
                _LOCK_FILES[path] = (fd, users - 1)


@contextmanager
def _migration_lock(db: Database) -> Iterator[Connection]:
    """A connection in a transaction that only one starter at a time holds: a transaction-scoped advisory
    lock on PostgreSQL, an exclusive lock on `<database>.migrate.lock` for a SQLite file."""
    if not db.is_sqlite:
        with db.engine.begin() as conn:
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK})
            yield conn
        return
    if db.file is None:
        with db.engine.begin() as conn:
            yield conn
        return
    with open(db.file + ".migrate.lock", "a+b") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        with db.engine.begin() as conn:
            yield conn


def _check_version(conn: Connection) -> None:
    value = conn.execute(select(Meta.value).where(Meta.key == "schema_version")).scalar()
    if value is not None and int(value) > SCHEMA_VERSION:
        raise SchemaError(f"database schema {value} is newer than this emulator's {SCHEMA_VERSION}")
    if value is None:
        conn.execute(insert(Meta).values(key="schema_version", value=SCHEMA_VERSION))
    elif int(value) < SCHEMA_VERSION:
        conn.execute(update(Meta).where(Meta.key == "schema_version").values(value=SCHEMA_VERSION))


def _json_dumps(value: Any) -> str:
    """A JSON column's text: `orjson.dumps` (several times `json.dumps` on a job's ten small columns; compact, UTF-8),
    or `json.dumps` for what orjson refuses (integers past 64 bits, lone surrogates). Both read back as the same
    values; they differ only for NaN and infinities (orjson writes null), which no stored value holds: request
    bodies are parsed by orjson, which refuses them."""
    try:
        return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()
    except TypeError:
        return json.dumps(value)


def _sqlite_pragmas_throwaway(dbapi_conn, record) -> None:
    """As `_sqlite_pragmas`, without fsync: for test state that is deleted when the test ends."""
    _sqlite_pragmas(dbapi_conn, record)
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA synchronous=OFF")
    cur.close()


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")   # durable across process crashes (SIGKILL) in WAL mode
    cur.execute(f"PRAGMA busy_timeout={_BUSY_MS}")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()
