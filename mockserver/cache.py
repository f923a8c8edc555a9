"""The per-process caches, typed and bounded (cachetools), with one invalidation mechanism: the database's
cache generation.

Every write that changes a cached fact — the clock policy, a model created or deleted, a fixture, a reset —
calls `bump(session)` inside its own transaction, which increments `cache_generation.value`. Before using
its caches a process reads that value (`Caches.view()`: one primary-key read) and, when it moved, drops
every database-derived entry. A `View` remembers the generation it was opened under and only stores into
the caches while that is still the current one, so a fact read before a concurrent write is never kept
under the newer generation. This holds across processes (the counter is in the database) and needs no
file stamps or quiet periods.

An in-memory SQLite database lives in one process; there the generation is a counter in this module,
moved when a bumping transaction commits.

What is cached (Caches attributes):
- `tenants`: Authorization header → Tenant (derived from the key ring, which never changes while the app
  lives; not database facts, so never dropped);
- `models`: (tenant, model id) → CallableModel; `policy`: the clock policy; `fixtures`: the fixture list;
- `answers`: training-data snapshot path → AnswerIndex; `validation`: job id → validation outcome.
"""

from __future__ import annotations

import itertools
import threading
from typing import Any

from cachetools import LRUCache
from sqlalchemy import event, select, update
from sqlmodel import Session

from mockserver.tables import CacheGeneration

__all__ = ["Caches", "View", "bump", "MAX_TENANTS", "MAX_MODELS", "MAX_ANSWER_INDEXES", "MAX_VALIDATIONS"]

MAX_TENANTS = 10_000
MAX_MODELS = 10_000
MAX_ANSWER_INDEXES = 32
MAX_VALIDATIONS = 1_024

_READ = select(CacheGeneration.value).where(CacheGeneration.id == 1)
_BUMP = update(CacheGeneration).where(CacheGeneration.id == 1).values(value=CacheGeneration.value + 1)
_local = itertools.count(1)
_local_generation = [0]


def bump(session: Session) -> None:
    """Mark every process's cached facts stale once `session` commits (call it with the write)."""
    session.execute(_BUMP)
    event.listen(session, "after_commit", _bump_local, once=True)


def _bump_local(_session: Session) -> None:
    _local_generation[0] = next(_local)


class Caches:
    """The caches of one app; `view()` checks the generation and returns the handle requests use."""

    def __init__(self, db: Any) -> None:
        self._db = db
        self._in_memory = db.url in ("sqlite://", "sqlite:///:memory:")
        self._lock = threading.Lock()
        self._generation: int | None = None
        self.tenants: LRUCache[str | None, Any] = LRUCache(maxsize=MAX_TENANTS)
        self.models: LRUCache[tuple[str, str], Any] = LRUCache(maxsize=MAX_MODELS)
        self.answers: LRUCache[str, Any] = LRUCache(maxsize=MAX_ANSWER_INDEXES)
        self.validation: LRUCache[str, Any] = LRUCache(maxsize=MAX_VALIDATIONS)
        self.slots: dict[str, Any] = {}   # single values: "policy", "fixtures"

    def generation(self, session: Session | None = None) -> int:
        """The database's current generation (read on `session` when given, else on a connection of its own)."""
        if self._in_memory:
            return _local_generation[0]
        if session is not None:
            return session.execute(_READ).scalar() or 0
        with self._db.engine.connect() as conn:
            return conn.execute(_READ).scalar() or 0

    def view(self, session: Session | None = None) -> View:
        generation = self.generation(session)
        if generation != self._generation:
            with self._lock:
                if generation != self._generation:
                    self._drop()
                    self._generation = generation
        return View(self, generation)

    def clear(self) -> None:
        """Drop everything database-derived in this process (other processes follow the generation)."""
        with self._lock:
            self._drop()
            self._generation = None

    def _drop(self) -> None:
        self.models.clear()
        self.answers.clear()
        self.validation.clear()
        self.slots.clear()

    def _store(self, generation: int, store: Any, key: Any, value: Any) -> None:
        with self._lock:
            if generation == self._generation:
                store[key] = value


class View:
    """The caches as of one generation: reads are plain; writes are kept only while it is current."""

    __slots__ = ("caches", "generation")

    def __init__(self, caches: Caches, generation: int) -> None:
        self.caches = caches
        self.generation = generation

    def get(self, name: str, key: Any) -> Any:
        with self.caches._lock:
            return getattr(self.caches, name).get(key)

    def put(self, name: str, key: Any, value: Any) -> Any:
        self.caches._store(self.generation, getattr(self.caches, name), key, value)
        return value

    def slot(self, name: str) -> Any:
        return self.caches.slots.get(name)

    def put_slot(self, name: str, value: Any) -> Any:
        self.caches._store(self.generation, self.caches.slots, name, value)
        return value
