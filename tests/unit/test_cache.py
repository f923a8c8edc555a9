"""mockserver.cache: one invalidation mechanism (the database's cache generation), correct across processes.

Two `Database` + `Caches` pairs on one SQLite file stand for two processes: each has its own engine and
connections and shares nothing in memory but what the database says (and the stamp file beside it, which
one process maps once); the stamp tests use real child processes.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from mockserver import cache
from mockserver.cache import MAX_TENANTS, Caches, bump
from mockserver.db import Database
from mockserver.dbfile import sqlite_file


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
    assert reader.read() == first + 1 and reader._idle and reader._idle[0] is not conn
    assert caches_b.direct_reads == 3
    caches_b.close()
    assert reader._idle == []


# --- the stamp beside a SQLite file: "nothing was bumped" without a statement ----------------------------

_BUMP_IN_ANOTHER_PROCESS = """
import sys
from mockserver.cache import bump
from mockserver.db import Database
db = Database(sys.argv[1], durable=False)
with db.session() as s:
    bump(s)
db.dispose()
"""

_DIE_WHILE_COMMITTING = """
import os, sys
from mockserver import cache
from mockserver.db import Database
cache._Stamp.leave = lambda self: os._exit(3)   # the bump commits, then the process dies before the stamp is even
db = Database(sys.argv[1], durable=False)
with db.session() as s:
    cache.bump(s)
"""


def _run(code: str, arg: str) -> int:
    return subprocess.run([sys.executable, "-c", code, arg], cwd=Path(__file__).parents[2], timeout=60).returncode


def test_unchanged_stamp_skips_the_read_and_a_bump_in_another_process_moves_it(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'state.db'}"
    db = Database(url, durable=False)
    caches = Caches(db)
    assert caches._stamp is not None and (tmp_path / "state.db.generation").stat().st_size == 8
    view = caches.view()
    view.put("models", ("t", "m"), "cached")
    reads = caches.direct_reads
    for _ in range(5):
        assert caches.view().get("models", ("t", "m")) == "cached"
    assert caches.direct_reads == reads, "an unchanged even stamp needs no statement"
    before = caches.generation()
    assert _run(_BUMP_IN_ANOTHER_PROCESS, url) == 0
    assert caches._stamp.value() % 2 == 0
    assert caches.view().get("models", ("t", "m")) is None, "a bump committed by another process is seen at once"
    assert caches.generation() == before + 1 and caches.direct_reads == reads + 1
    caches.close()
    db.dispose()


def test_a_process_that_dies_while_committing_a_bump_leaves_no_stale_cache(tmp_path: Path) -> None:
    """Its stamp stays odd: every read goes to the database (the commit may or may not have happened) until a
    reader finds the lock free and makes the stamp even again, after which reads are skipped once more."""
    url = f"sqlite:///{tmp_path / 'state.db'}"
    db = Database(url, durable=False)
    caches = Caches(db)
    caches.view().put_slot("policy", "p")
    assert _run(_DIE_WHILE_COMMITTING, url) == 3
    assert caches._stamp.value() % 2 == 1
    reads = caches.direct_reads
    assert caches.view().slot("policy") is None, "an odd stamp is a change: the caches are not trusted"
    assert caches.direct_reads == reads + 1 and caches._stamp.value() % 2 == 0, "healed by the reader"
    caches.view().put_slot("policy", "q")
    assert caches.view().slot("policy") == "q" and caches.direct_reads == reads + 2
    caches.close()
    db.dispose()


def test_a_rolled_back_bump_leaves_the_stamp_even_and_unlocked(two_processes) -> None:
    (db_a, caches_a), (_, caches_b) = two_processes
    stamp = caches_b._stamp
    assert stamp is caches_a._stamp   # one per database file in a process
    start = stamp.value()
    with pytest.raises(RuntimeError), db_a.session() as s:
        bump(s)
        s.flush()
        raise RuntimeError("rolled back before commit")
    assert stamp.value() == start   # never entered
    with db_a.session() as s:
        bump(s)
        bump(s)   # twice in one transaction: one enter, one leave
    assert stamp.value() == start + 2
    assert stamp._lock.acquire(blocking=False)
    stamp._lock.release()


def test_postgres_and_in_memory_databases_have_no_stamp() -> None:
    db = Database("sqlite://", durable=False)
    assert Caches(db)._stamp is None
    db.dispose()
    assert sqlite_file("postgresql+psycopg://u:p@h/db") is None and sqlite_file("sqlite:///:memory:") is None


def test_one_stamp_for_a_database_reached_by_two_paths(tmp_path: Path) -> None:
    real = tmp_path / "state.db"
    a = Database(f"sqlite:///{real}", durable=False)
    (tmp_path / "link.db").symlink_to(real)
    b = Database(f"sqlite:///{tmp_path / 'link.db'}", durable=False)
    caches_b = Caches(b)
    caches_b.view().put_slot("policy", "p")
    with a.session() as s:
        bump(s)
    assert caches_b.view().slot("policy") is None
    assert not (tmp_path / "link.db.generation").exists()
    caches_b.close()
    a.dispose()
    b.dispose()


@pytest.mark.parametrize("directory", ["données", "a%b", "x@y:z", "h#sh"])
def test_a_bump_finds_the_stamp_of_a_database_whose_path_a_url_would_escape(tmp_path: Path, directory: str) -> None:
    """`bump` names the stamp from `Database.file`, the one name of the database's file: not from the engine's URL
    rendered as a string, which escapes a path's non-ASCII characters and '%', '@', ':', '#' (before: every bump in
    such a data dir raised FileNotFoundError for `donn%C3%A9es/state.db.generation`, or moved a stamp no other
    process reads)."""
    (tmp_path / directory).mkdir()
    url = f"sqlite:///{tmp_path / directory / 'state.db'}"
    a, b = Database(url, durable=False), Database(url, durable=False)
    caches_b = Caches(b)
    caches_b.view().put_slot("policy", "p")
    with a.session() as s:
        bump(s)
    assert caches_b.view().slot("policy") is None
    assert sorted(p.name for p in tmp_path.rglob("*.generation")) == ["state.db.generation"]
    assert caches_b._stamp.value() % 2 == 0 and caches_b._stamp.value() > 0
    caches_b.close()
    a.dispose()
    b.dispose()


def test_an_emulator_starts_and_resets_in_a_data_dir_with_a_non_ascii_name(tmp_path: Path) -> None:
    """Before: the first policy seed's bump raised FileNotFoundError at start-up (`create_app`), for any data dir
    whose path has a non-ASCII character ("/home/josé/...")."""
    from mockserver.testing import Emulator

    data = tmp_path / "données"
    with Emulator(data_dir=data, database_url=f"sqlite:///{data / 'state.db'}", durable=False) as emu:
        assert emu.request("POST", "/_mock/reset", json={})[0] == 200
        assert emu.request("GET", "/v1/models")[0] == 200
    assert (data / "state.db.generation").exists()


def test_bump_needs_a_session_that_names_the_database_file(two_processes) -> None:
    from sqlmodel import Session

    (db_a, _), _ = two_processes
    with Session(db_a.engine) as s, pytest.raises(TypeError, match="Database.session"):
        bump(s)


def test_a_session_that_runs_several_transactions_moves_the_stamp_for_those_that_bump(two_processes) -> None:
    (db_a, caches_a), (_, caches_b) = two_processes
    stamp = caches_a._stamp
    start = stamp.value()
    with db_a.session() as s:
        bump(s)
        s.commit()                                   # first transaction: bumped
        assert stamp.value() == start + 2
        s.execute(cache._READ)
        s.commit()                                   # second one: no bump, no move
        assert stamp.value() == start + 2
        caches_b.view().put_slot("policy", "p")
        bump(s)                                      # third one bumps again: seen by the other process
    assert stamp.value() == start + 4 and caches_b.view().slot("policy") is None


def test_in_memory_sessions_reused_after_a_bump_still_invalidate() -> None:
    db = Database("sqlite://", durable=False)
    caches = Caches(db)
    with db.session() as s:
        bump(s)
        s.commit()
        caches.view().put_slot("fixtures", ["f"])
        bump(s)
    assert caches.view().slot("fixtures") is None
    db.dispose()
