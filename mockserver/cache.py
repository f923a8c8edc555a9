"""The per-process view of database facts, valid until the next committed write in any process.

Reading them costs a SQLAlchemy session per request (~0.3–0.7 ms, several times a whole bare request), so
they are cached per process in `svc.cache` under a stamp of the SQLite files: (inode, mtime_ns, size) of
the database and of its `-wal` file. Every committed write — a clock advance, a policy change, a model
deleted or created, a reset, in this process or another — changes the stamp and empties the cache.

A stamp is only trusted once both files have been untouched for QUIET_NS (50 ms): file mtimes move in
kernel ticks, so a write landing in the same tick as an earlier one could otherwise leave the stamp
unchanged. While writes are frequent (jobs running) every request simply reads the database. Databases
without a file (PostgreSQL, in-memory SQLite) are always read.
"""

from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mockserver.services import Services

__all__ = ["db_stamp", "db_view", "QUIET_NS"]

QUIET_NS = 50_000_000
_SLOT = "chat_db_view"


def _db_file(svc: Services) -> str | None:
    url = svc.db.url
    if not url.startswith("sqlite:///"):
        return None
    path = url.removeprefix("sqlite:///")
    return path if path and path != ":memory:" else None


def db_stamp(svc: Services) -> tuple | None:
    """(inode, mtime_ns, size) of the database file and its WAL, or None when there is no file to watch."""
    path = _db_file(svc)
    if path is None:
        return None
    out: list[Any] = []
    for p in (path, path + "-wal"):
        try:
            st = os.stat(p)
        except OSError:
            out.append(None)
            continue
        out.append((st.st_ino, st.st_mtime_ns, st.st_size))
    return tuple(out)


def _quiet(stamp: tuple) -> bool:
    limit = time.time_ns() - QUIET_NS
    return all(part is None or part[1] <= limit for part in stamp)


def db_view(svc: Services) -> dict:
    """The cache valid for the current stamp; a throwaway dict when the files cannot be trusted.
    Keys: (tenant, model id) → CallableModel, and "clock" → the clock Policy (Services.policy uses it)."""
    stamp = db_stamp(svc)
    slot = svc.cache.get(_SLOT)
    if slot is not None and stamp is not None and slot[0] == stamp:
        return slot[1]
    view: dict = {}
    if stamp is not None and _quiet(stamp):
        svc.cache[_SLOT] = (stamp, view)
    else:
        svc.cache.pop(_SLOT, None)
    return view
