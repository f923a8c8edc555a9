"""mockserver.cache: one invalidation mechanism (the database's cache generation), correct across processes.

Two `Database` + `Caches` pairs on one SQLite file stand for two processes: each has its own engine and
connections and shares nothing in memory but what the database says.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from mockserver.cache import MAX_TENANTS, Caches, bump
from mockserver.db import Database


@pytest.fixture
def two_processes(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'state.db'}"
    a, b = Database(url, durable=False), Database(url, durable=False)
    yield (a, Caches(a)), (b, Caches(b))
    a.dispose()
    b.dispose()


def test_a_write_in_one_process_drops_the_other_process_caches(two_processes) -> None:
    (db_a, _), (_, caches_b) = two_processes
    view = caches_b.view()
    view.put("models", ("t", "m"), "cached")
    assert caches_b.view().get("models", ("t", "m")) == "cached"
    with db_a.session() as s:
        bump(s)
    assert caches_b.view().get("models", ("t", "m")) is None


def test_an_uncommitted_bump_changes_nothing(two_processes) -> None:
    (db_a, _), (_, caches_b) = two_processes
    caches_b.view().put_slot("policy", "p")
    with pytest.raises(RuntimeError), db_a.session() as s:
        bump(s)
        raise RuntimeError("rolled back")
    assert caches_b.view().slot("policy") == "p"


def test_a_value_read_before_a_write_is_not_kept_after_it(two_processes) -> None:
    """A view opened before a concurrent write may finish loading after the write: it must not store."""
    (db_a, _), (_, caches_b) = two_processes
    old_view = caches_b.view()
    with db_a.session() as s:
        bump(s)
    caches_b.view()                      # another request sees the new generation first
    old_view.put("models", ("t", "m"), "stale")
    assert caches_b.view().get("models", ("t", "m")) is None


def test_in_memory_databases_follow_commits_in_process() -> None:
    db = Database("sqlite://", durable=False)
    caches = Caches(db)
    caches.view().put_slot("fixtures", ["f"])
    assert caches.view().slot("fixtures") == ["f"]
    with db.session() as s:
        bump(s)
    assert caches.view().slot("fixtures") is None
    db.dispose()


def test_caches_are_bounded(two_processes) -> None:
    (_, caches), _ = two_processes
    for i in range(MAX_TENANTS + 10):
        caches.tenants[str(i)] = i
    assert len(caches.tenants) == MAX_TENANTS
    assert caches.tenants.maxsize == MAX_TENANTS and caches.models.maxsize and caches.answers.maxsize


def test_generation_reads_reuse_their_connection_and_survive_a_broken_one(two_processes) -> None:
    """The generation is read on a DBAPI connection of its own (no pool checkout per request): reads reuse it,
    see every commit at once, are counted (tests add them to the statements they pin), and a connection that
    broke is replaced on the next read instead of failing the request."""
    (db_a, _), (_, caches_b) = two_processes
    first = caches_b.generation()
    reader = caches_b._reader
    assert len(reader._idle) == 1 and caches_b.direct_reads == 1
    conn = reader._idle[0]
    with db_a.session() as s:
        bump(s)
    assert caches_b.generation() == first + 1 and reader._idle == [conn]
    conn.close()   # e.g. the database server restarted
    assert caches_b.generation() == first + 1 and reader._idle and reader._idle[0] is not conn
    assert caches_b.direct_reads == 3
    caches_b.close()
    assert reader._idle == []
