"""Engine and sessions: SQLite in WAL mode by default, PostgreSQL by URL; schema version kept in Meta."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import event, insert, select, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.pool import StaticPool
from sqlmodel import Session, SQLModel, create_engine

from mockserver.tables import SCHEMA_VERSION, Meta

__all__ = ["Database", "SchemaError"]


class SchemaError(RuntimeError):
    """The database was written by a newer emulator than this one."""


class Database:
    """Owns the engine; `session()` yields a session that commits on success."""

    def __init__(self, url: str, *, durable: bool = True) -> None:
        self.url = url
        self.durable = durable
        self.is_sqlite = url.startswith("sqlite")
        self.engine = self._make_engine(url)
        self._migrate()

    def _make_engine(self, url: str) -> Engine:
        if not self.is_sqlite:
            return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)
        if url in ("sqlite://", "sqlite:///:memory:"):
            engine = create_engine(url, connect_args={"check_same_thread": False}, poolclass=StaticPool)
        else:
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
            engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas if self.durable else _sqlite_pragmas_throwaway)
        return engine

    def _migrate(self) -> None:
        """Create the tables and check the schema version; safe when several processes start at once.

        Future migrations go here, each moving schema_version up by one.
        """
        if not self.is_sqlite:  # one starter at a time, under a transaction-scoped advisory lock
            with self.engine.begin() as conn:
                conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK})
                SQLModel.metadata.create_all(conn)
                _check_version(conn)
            return
        for attempt in range(20):  # SQLite: another process created a table or the version row first
            try:
                SQLModel.metadata.create_all(self.engine)
                with self.engine.begin() as conn:
                    _check_version(conn)
                return
            except (OperationalError, IntegrityError):
                if attempt == 19:
                    raise
                time.sleep(0.02 * (attempt + 1))

    @contextmanager
    def session(self) -> Iterator[Session]:
        with Session(self.engine, expire_on_commit=False) as s:
            try:
                yield s
                s.commit()
            except BaseException:
                s.rollback()
                raise

    def dispose(self) -> None:
        self.engine.dispose()


_MIGRATION_LOCK = 0x6D6F636B  # "mock"


def _check_version(conn: Connection) -> None:
    value = conn.execute(select(Meta.value).where(Meta.key == "schema_version")).scalar()
    if value is None:
        conn.execute(insert(Meta).values(key="schema_version", value=SCHEMA_VERSION))
    elif int(value) > SCHEMA_VERSION:
        raise SchemaError(f"database schema {value} is newer than this emulator's {SCHEMA_VERSION}")


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
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()
