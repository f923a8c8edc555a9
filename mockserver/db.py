"""Engine and sessions: SQLite in WAL mode by default, PostgreSQL by URL; schema version kept in Meta."""

from __future__ import annotations

import collections
import fcntl
import json
import math
import os
import threading
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import event, exc, insert, select, text, update
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import StaticPool
from sqlmodel import Session, SQLModel, create_engine

from mockserver import migrations
from mockserver.dbfile import DATABASE_FILE, sqlite_file
from mockserver.tables import SCHEMA_VERSION, Meta

__all__ = ["Database", "SchemaError", "Raw"]


SchemaError = migrations.SchemaError


class Database:
    """Owns the engine; `session()` yields a session that commits on success."""

    def __init__(self, url: str, *, durable: bool = True) -> None:
        self.url = url
        self.durable = durable
        self.is_sqlite = url.startswith("sqlite")
        self.file = sqlite_file(url)   # the SQLite file (symlinks resolved): the lock files beside it are named from it
        self.engine = self._make_engine(url)
        # The fast path (`raw_transaction`, `raw_read`): a database file or PostgreSQL. An in-memory database keeps
        # Core: its one connection is also the one a call's clock policy is read on (Services.policy).
        self.raw = not self.is_sqlite or self.file is not None
        self._prepared: dict[Any, _Prepared] = {}
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
        with Session(self.engine, expire_on_commit=False, info={DATABASE_FILE: self.file}) as s:   # (cache.bump)
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
        `wait=False` (a write made on the event loop, whose caller can retry it on a worker thread): a statement
        that would wait for a lock another connection holds raises OperationalError at once instead: on SQLite,
        the write lock (busy_timeout 0 for the transaction's length); on PostgreSQL, a row or table lock
        (`lock_timeout` 1 ms for the transaction, SQLSTATE 55P03 LockNotAvailable; 0 would mean no limit)."""
        with self.engine.connect() as conn:
            patient = wait or self.file is None   # (PostgreSQL: below; an in-memory database has one connection)
            if not patient:
                conn.connection.driver_connection.execute("PRAGMA busy_timeout=0")
            try:
                conn.begin()
                try:
                    if not wait and not self.is_sqlite:
                        conn.exec_driver_sql(_NO_LOCK_WAIT)
                    yield conn
                    conn.commit()
                except BaseException:
                    conn.rollback()
                    raise
            finally:
                if not patient:
                    conn.connection.driver_connection.execute(f"PRAGMA busy_timeout={_BUSY_MS}")

    @contextmanager
    def raw_transaction(self, *, wait: bool = True) -> Iterator[Raw | Connection]:
        """`transaction(wait=...)` for prebuilt Core statements run on the pooled DBAPI connection (`Raw`): the same
        transaction (commit on success, rollback when the block raises; `wait=False`: busy_timeout 0 on SQLite for
        its length, lock_timeout 1 ms on PostgreSQL), ~25 µs less per statement and per transaction. The connection is left as Core leaves it:
        SQLAlchemy's pysqlite dialect keeps the sqlite3 module's implicit transactions (`isolation_level` ""): a
        DML statement begins one (DEFERRED) and a read before it runs outside it, as under Core; psycopg begins one
        with the first statement. An in-memory database yields `transaction()`'s Core connection."""
        if not self.raw:
            with self.transaction(wait=wait) as conn:
                yield conn
            return
        fairy = self.engine.raw_connection()
        try:
            driver = fairy.driver_connection
            patient = wait or not self.is_sqlite
            if not patient:
                driver.execute("PRAGMA busy_timeout=0")
            try:
                raw = Raw(self, fairy)
                try:
                    if not wait and not self.is_sqlite:   # (as `transaction`: psycopg begins the transaction here)
                        raw.setting(_NO_LOCK_WAIT)
                    yield raw
                    raw.call(driver.commit)
                except BaseException:
                    if fairy.is_valid:   # (not after a disconnect: `Raw.call` invalidated it)
                        # as Core's rollback: a lost connection raised as SQLAlchemy's OperationalError, invalidated
                        raw.call(driver.rollback)
                    raise
            finally:
                if not patient and fairy.is_valid:
                    driver.execute(f"PRAGMA busy_timeout={_BUSY_MS}")
        finally:
            fairy.close()   # back to the pool (whose reset on return rolls back what is left: nothing here)

    @contextmanager
    def raw_read(self) -> Iterator[Raw | Connection]:
        """`engine.connect()` for reads by prebuilt Core statements, on the pooled DBAPI connection (`Raw`): nothing
        to commit (a read leaves no transaction open on SQLite; PostgreSQL's is rolled back by the pool when the
        connection goes back). An in-memory database yields a Core connection."""
        if not self.raw:
            with self.engine.connect() as conn:
                yield conn
            return
        fairy = self.engine.raw_connection()
        try:
            yield Raw(self, fairy)
        finally:
            fairy.close()

    def prepared(self, stmt: Any, keys: tuple[str, ...], many: bool) -> _Prepared:
        """`stmt` compiled for this engine's dialect, once per statement (and, for INSERT / UPDATE, per set of
        parameter names, which decide its columns as they do under Core); at most _PREPARED statements are kept
        (past that, each run compiles: a statement built per call belongs on Core)."""
        key = (stmt, keys, many) if stmt.is_dml else stmt
        found = self._prepared.get(key)
        if found is None:
            found = _Prepared(stmt, self.engine.dialect, keys, many)
            if len(self._prepared) < _PREPARED:
                self._prepared[key] = found
        return found

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


class _Prepared:
    """One Core statement compiled for a dialect, with what running it on a DBAPI cursor takes: the parameters in the
    paramstyle's order (`positiontup`, qmark) or by name (pyformat), their types' bind processors, and for a SELECT
    its columns' result processors (from the cursor's description, as Core gets them) and a named tuple for its rows.
    Only public SQLAlchemy APIs: `compile`, `construct_params`, `positiontup`, `binds`, `TypeEngine.dialect_impl`,
    `bind_processor`, `result_processor`."""

    __slots__ = ("sql", "dialect", "compiled", "order", "named", "select", "fields", "row", "results")

    def __init__(self, stmt: Any, dialect: Any, keys: tuple[str, ...], many: bool) -> None:
        compiled = stmt.compile(dialect=dialect, column_keys=list(keys), for_executemany=many)
        if compiled.insert_prefetch or compiled.update_prefetch or compiled.post_compile_params \
                or compiled.literal_execute_params:
            raise TypeError(f"not a statement the raw path runs as Core does (defaults evaluated in Python or "
                            f"parameters rendered at execution): {compiled.string}")
        self.sql, self.dialect, self.compiled = compiled.string, dialect, compiled
        processors = {name: bind.type.dialect_impl(dialect).bind_processor(dialect)
                      for name, bind in compiled.binds.items()}
        if compiled.positional:
            self.order = tuple((name, processors[name]) for name in compiled.positiontup)
            self.named = None
        else:
            self.order = None
            self.named = tuple((name, proc) for name, proc in processors.items() if proc is not None)
        self.select = stmt.is_select
        self.fields = tuple(stmt.selected_columns.keys()) if self.select else ()
        self.row = collections.namedtuple("Row", self.fields) if self.select else None  # type: ignore[misc]
        self.results: tuple | None = None   # set at the first run (it needs the cursor's description)

    def args(self, params: dict) -> Any:
        values = self.compiled.construct_params(params)
        if self.order is not None:
            return tuple(values[name] if proc is None else proc(values[name]) for name, proc in self.order)
        for name, proc in self.named:
            values[name] = proc(values[name])
        return values

    def rows(self, cursor: Any) -> list:
        results = self.results
        if results is None:
            columns = self.compiled.statement.selected_columns
            if len(cursor.description) != len(columns):
                raise TypeError(f"{len(cursor.description)} result columns, {len(columns)} selected: {self.sql}")
            processors = tuple(column.type.dialect_impl(self.dialect).result_processor(self.dialect, d[1])
                               for column, d in zip(columns, cursor.description, strict=True))
            results = self.results = processors if any(processors) else ()
        make = self.row._make   # type: ignore[union-attr]
        if not results:
            return [make(found) for found in cursor.fetchall()]
        return [make([v if proc is None else proc(v) for v, proc in zip(found, results, strict=True)]) for found in cursor.fetchall()]


class _Result:
    """What `Raw.execute` returns: the rows a SELECT read (all of them: the cursor is closed) and the rowcount, with
    the few methods of Core's Result the callers use."""

    __slots__ = ("_rows", "rowcount")

    def __init__(self, rows: list, rowcount: int) -> None:
        self._rows, self.rowcount = rows, rowcount

    def first(self) -> Any:
        return self._rows[0] if self._rows else None

    def all(self) -> list:
        return self._rows

    def scalar(self) -> Any:
        return self._rows[0][0] if self._rows else None


class Raw:
    """A pooled DBAPI connection (`engine.raw_connection()`) that runs prebuilt Core statements the way
    `Connection.execute` does — the same SQL, parameters through the same bind processors, rows through the same
    result processors, errors as the same SQLAlchemy exception classes, each statement reported to the engine's
    `before_cursor_execute` listeners (conn and context None) — without Core's per-execution work: ~2 µs over the
    driver's own (a missing file's read by id on a SQLite file, timeit: Core 15.4 µs, here 5.4, sqlite3 alone 3.4;
    a hit that builds a row costs Core ~30). Not reported: `after_cursor_execute`, `handle_error`, `echo` logging.
    A row is a named tuple of the selected columns' keys; `execute` with a list of parameter dicts is an
    executemany. From `Database.raw_transaction` / `raw_read` only."""

    __slots__ = ("db", "fairy", "driver")

    def __init__(self, db: Database, fairy: Any) -> None:
        self.db, self.fairy, self.driver = db, fairy, fairy.driver_connection

    def execute(self, stmt: Any, params: dict | list[dict] | None = None) -> _Result:
        many = isinstance(params, list)
        first: dict = (params[0] if params else {}) if many else (params or {})  # type: ignore[index,assignment]
        prepared = self.db.prepared(stmt, tuple(first), many)
        args = [prepared.args(p) for p in params] if many else prepared.args(first)  # type: ignore[union-attr]
        listeners = self.db.engine.dispatch.before_cursor_execute
        cursor = self.driver.cursor()
        try:
            if listeners:
                listeners(None, cursor, prepared.sql, args, None, many)
            if many:
                self.call(cursor.executemany, prepared.sql, args, cursor=cursor)
            else:
                self.call(cursor.execute, prepared.sql, args, cursor=cursor)
            rows = self.call(prepared.rows, cursor, cursor=cursor) if prepared.select else []
            return _Result(rows, cursor.rowcount)
        finally:
            cursor.close()

    def setting(self, sql: str) -> None:
        """A statement without parameters or rows (`raw_transaction`'s SET LOCAL), reported to the listeners as Core's
        `exec_driver_sql` of it in `Database.transaction` is."""
        listeners = self.db.engine.dispatch.before_cursor_execute
        cursor = self.driver.cursor()
        try:
            if listeners:
                listeners(None, cursor, sql, {}, None, False)
            self.call(cursor.execute, sql, cursor=cursor)
        finally:
            cursor.close()

    def call(self, fn: Any, *args: Any, cursor: Any = None) -> Any:
        """`fn(*args)`, a DBAPI error raised as Core raises it (`DBAPIError.instance`: IntegrityError,
        OperationalError, …); a disconnect invalidates the connection, which the pool then replaces."""
        dialect = self.db.engine.dialect
        try:
            return fn(*args)
        except dialect.loaded_dbapi.Error as e:
            gone = dialect.is_disconnect(e, self.driver, cursor)
            if gone:
                self.fairy.invalidate(e)
            raise exc.DBAPIError.instance(args[0] if args and isinstance(args[0], str) else None,
                                          args[1] if len(args) > 1 else None, e, dialect.loaded_dbapi.Error,
                                          connection_invalidated=gone, dialect=dialect) from e


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


_PREPARED = 256   # statements `Database.prepared` keeps compiled (each module builds its hot ones once)
_BUSY_MS = 30000   # how long a SQLite write waits for another connection's write lock (but see `transaction`)
_NO_LOCK_WAIT = "SET LOCAL lock_timeout = '1ms'"   # PostgreSQL's shortest wait for a lock (`transaction(wait=False)`)
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
    or `json.dumps` for what orjson refuses (integers past 64 bits, lone surrogates) and for a value holding NaN or
    an infinity, which orjson would write as null: `json.dumps` writes NaN / Infinity, which SQLite keeps and reads
    back as the same float, and which PostgreSQL's json type refuses (an error, never a value silently changed).
    No stored value is expected to hold one (request bodies are parsed by orjson, which refuses them); the check
    walks the value only when orjson's text has a null in it."""
    try:
        text = orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS)
    except TypeError:
        return json.dumps(value)
    if b"null" in text and _has_non_finite(value):
        return json.dumps(value)
    return text.decode()


def _has_non_finite(value: Any) -> bool:
    """Whether `value` (JSON-shaped: dicts, lists, tuples, scalars) holds a float NaN or infinity anywhere."""
    stack = [value]
    pop, extend = stack.pop, stack.extend
    while stack:
        item = pop()
        kind = type(item)
        if kind is float:
            if item - item != 0:   # NaN - NaN and inf - inf are NaN; any finite float gives 0.0
                return True
        elif kind is list or kind is tuple:
            extend(item)
        elif kind is dict:
            extend(item.values())
        elif isinstance(item, (list, tuple)):   # (subclasses, rarer: orjson writes dict and list subclasses too)
            extend(item)
        elif isinstance(item, dict):
            extend(item.values())
        elif isinstance(item, float) and not math.isfinite(item):
            return True
    return False


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
