"""Settings rows every process shares (the clock policy, answer-fidelity overrides) written at the same moment.

Each case makes the race happen on purpose: process B reads "no policy yet", and before it stores its own,
process A tries to store one. Whichever stores first, the other must not overwrite it (the processes would
then disagree on the clock, and a clock advance could be lost). Under `db.locked_meta` A waits for B's lock;
code that re-read the row without a lock let A commit first and B overwrite it (PostgreSQL).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from mockserver.cache import Caches
from mockserver.db import Database
from mockserver.jobs import clock
from mockserver.tables import Meta


@pytest.fixture(params=["sqlite", "postgres"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    if request.param == "sqlite":
        database = Database(f"sqlite:///{tmp_path / 'state.db'}")
        yield database
        database.dispose()
        return
    from tests.reliability._server import pg_database_or_skip

    with pg_database_or_skip() as url:
        database = Database(url)
        yield database
        database.dispose()


def _stored(db: Database) -> dict:
    with db.session() as s:
        return dict(s.get(Meta, "clock").value)


def _racing_wall(db: Database, other: threading.Thread) -> clock.WallClock:
    """A wall clock for B that, the first time B reads it (after B read the policy row), lets process A
    try to store its policy: A either finishes first or waits for B's lock; both orders are correct."""
    calls = [0]

    def wall() -> float:
        calls[0] += 1
        if calls[0] == 1:
            other.start()
            other.join(0.5)
        return 2000.0 + calls[0]

    return wall


def test_first_seeds_at_once_agree(db: Database) -> None:
    generation = Caches(db).generation
    before = generation()
    a = threading.Thread(target=clock.seed_policy, args=(db,),
                         kwargs={"transitions": "manual", "time_scale": 1.0, "wall": lambda: 1000.0})
    clock.seed_policy(db, transitions="manual", time_scale=1.0, wall=_racing_wall(db, a))
    a.join(30)
    assert not a.is_alive()
    # Whoever stored first, nobody overwrote it afterwards: the winner's anchor, and one write in all.
    assert _stored(db)["anchor_wall"] in (1000.0, 2001.0)
    assert generation() - before == 1, "the second seed overwrote the first one's policy"


def test_first_changes_at_once_both_count(db: Database) -> None:
    def advance_a() -> None:
        clock.change_policy(db, lambda p: clock.advance(p, 7.0, 1000.0), default_transitions="manual",
                            default_scale=1.0, wall=lambda: 1000.0)

    a = threading.Thread(target=advance_a)
    wall = _racing_wall(db, a)
    clock.change_policy(db, lambda p: clock.advance(p, 5.0, 1000.0), default_transitions="manual",
                        default_scale=1.0, wall=wall)
    a.join(30)
    assert not a.is_alive()
    stored = _stored(db)
    moved = stored["anchor_virtual"] - stored["anchor_wall"]
    # Both advances (7 s and 5 s) are in the stored clock, whichever process stored the first policy.
    assert moved == pytest.approx(12.0) or stored["anchor_virtual"] - 2001.0 == pytest.approx(12.0), stored


def test_fidelity_overrides_set_at_once_all_count(db: Database) -> None:
    """Two writers setting different tenants' overrides at once, from a missing row: none is lost, none fails."""
    from mockserver.chat import fidelity

    barrier, failures = threading.Barrier(2), []

    def writer(name: str) -> None:
        barrier.wait(10)
        for k in range(20):
            try:
                with db.session() as s:
                    fidelity.save(s, tenant=f"{name}-{k}", mode="epochs")
            except Exception as e:  # reported below
                failures.append(repr(e))

    threads = [threading.Thread(target=writer, args=(name,)) for name in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    with db.session() as s:
        stored = fidelity.load(s)
    assert not failures, failures
    assert set(stored) == {f"{n}-{k}" for n in "ab" for k in range(20)}, sorted(stored)
