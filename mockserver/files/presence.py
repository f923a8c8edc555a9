"""Who else is alive: how a blob store's sweep tells a crash leftover from another process's work.

Every process using a blob store holds a shared lock while it lives (a SIGKILL releases it). The sweep
asks `alone()`: the lock taken exclusively means no other process is alive, so every unpublished or
unnamed blob is a crash leftover; otherwise only those older than a grace period are. The lock lives
where all the processes meet: a PostgreSQL advisory lock on the shared database (replicas on several
hosts), or an flock on a file beside the SQLite database (processes of one host).

Each process also holds a lock of its own, `owner` (a random number it puts in the names of what it
writes before publishing), so the sweep can tell the leftovers of a dead process from the work of a live
one while other processes run: `gone(owner)`.
"""

from __future__ import annotations

import fcntl
import os
import secrets
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from mockserver.dbfile import sqlite_file

__all__ = ["Presence", "presence_for"]

_ALIVE_LOCK = 0x626C6F62  # "blob"
_OWNERS = 0x6F776E72      # "ownr": the key space of the per-process locks (two-key advisory locks)


class Presence:
    """A shared lock held from construction to `close()`; `alone()` says whether it is the only one;
    `owner` names this process's own lock, `gone(owner)` whether another one's process has ended."""

    owner: int = 0

    @contextmanager
    def alone(self) -> Iterator[bool]:
        yield False

    def gone(self, owner: int) -> bool:
        return False

    def close(self) -> None:
        """Release the lock (the process is ending)."""


class PostgresPresence(Presence):
    """A session advisory lock on a connection of its own, outside the pool, for the store's lifetime."""

    def __init__(self, engine: Any) -> None:
        fairy = engine.raw_connection()
        self.conn = fairy.driver_connection
        fairy.detach()
        self.conn.rollback()
        self.conn.autocommit = True
        self.lock = threading.Lock()
        self.owner = _new_owner()
        self._exec("SELECT pg_advisory_lock_shared(%s), pg_advisory_lock(%s, %s)", (_ALIVE_LOCK, _OWNERS, self.owner))

    def _exec(self, sql: str, params: tuple) -> Any:
        with self.lock:
            return self.conn.execute(sql, params).fetchall()

    @contextmanager
    def alone(self) -> Iterator[bool]:
        # the session holds the lock shared: the exclusive request succeeds only if no other session holds it
        mine = bool(self._exec("SELECT pg_try_advisory_lock(%s)", (_ALIVE_LOCK,))[0][0])
        try:
            yield mine
        finally:
            if mine:
                self._exec("SELECT pg_advisory_unlock(%s)", (_ALIVE_LOCK,))

    def gone(self, owner: int) -> bool:
        if owner == self.owner or not 0 < owner < 2**31:
            return False
        free = bool(self._exec("SELECT pg_try_advisory_lock(%s, %s)", (_OWNERS, owner))[0][0])
        if free:
            self._exec("SELECT pg_advisory_unlock(%s, %s)", (_OWNERS, owner))
        return free

    def close(self) -> None:
        with self.lock:
            self.conn.close()


class FilePresence(Presence):
    """A shared flock on `path` (processes of one host)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        self._finalizer = weakref.finalize(self, os.close, self.fd)
        fcntl.flock(self.fd, fcntl.LOCK_SH)
        self.owner = _new_owner()
        fcntl.lockf(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, self.owner)  # a byte of its own (flock is apart)

    @contextmanager
    def alone(self) -> Iterator[bool]:
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(self.fd, fcntl.LOCK_SH)

    def gone(self, owner: int) -> bool:
        if owner == self.owner or not 0 < owner < 2**31:
            return False
        try:
            fcntl.lockf(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, owner)
        except OSError:
            return False
        fcntl.lockf(self.fd, fcntl.LOCK_UN, 1, owner)
        return True

    def close(self) -> None:
        self._finalizer()


def _new_owner() -> int:
    return secrets.randbelow(2**31 - 2) + 1


def presence_for(db_url: str) -> Presence:
    """The presence lock of the processes sharing `db_url`: advisory on PostgreSQL, a file beside a SQLite
    file; an in-memory database has one process, so it is always alone."""
    if db_url.startswith("postgresql"):
        from sqlalchemy import create_engine
        from sqlalchemy.pool import NullPool

        engine = create_engine(db_url, poolclass=NullPool)
        try:
            return PostgresPresence(engine)
        finally:
            engine.dispose()
    path = sqlite_file(db_url)
    if path is None:
        return _Alone()
    return FilePresence(Path(path + ".blobs-alive"))


class _Alone(Presence):
    @contextmanager
    def alone(self) -> Iterator[bool]:
        yield True

    def gone(self, owner: int) -> bool:
        return True
