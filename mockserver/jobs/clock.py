"""The shared virtual clock and transition policy, stored in the database so every process agrees.

virtual_now = anchor_virtual + (wall_now - anchor_wall) × rate, with rate 1 under `realtime` and
`immediate` and 0 under `manual` (time moves only when the control plane advances it). Simulated job
durations are divided by `time_scale`; under `immediate` they are zero.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select
from sqlmodel import Session

from mockserver.cache import bump
from mockserver.db import locked_meta
from mockserver.tables import Meta

__all__ = ["Policy", "load_policy", "save_policy", "advance", "set_transitions", "set_time_scale",
           "WallClock", "seed_policy", "change_policy"]

WallClock = Callable[[], float]
_KEY = "clock"


@dataclass(frozen=True, slots=True)
class Policy:
    transitions: str
    time_scale: float
    anchor_wall: float
    anchor_virtual: float

    @property
    def rate(self) -> float:
        return 0.0 if self.transitions == "manual" else 1.0

    def now(self, wall: float) -> float:
        return self.anchor_virtual + (wall - self.anchor_wall) * self.rate

    def duration(self, seconds: float) -> float:
        """Virtual seconds a stage lasting `seconds` of simulated training takes under this policy."""
        return 0.0 if self.transitions == "immediate" else seconds / self.time_scale

    def to_json(self) -> dict:
        return {"transitions": self.transitions, "time_scale": self.time_scale,
                "anchor_wall": self.anchor_wall, "anchor_virtual": self.anchor_virtual}


def load_policy(session: Session | Connection, *, default_transitions: str, default_scale: float,
                wall: WallClock = time.time) -> Policy:
    if isinstance(session, Connection):   # a Database.transaction() (an in-memory database's only connection)
        found = session.execute(select(Meta).where(Meta.key == _KEY)).first()
        row = None if found is None else Meta.model_construct(key=found.key, value=found.value)
    else:
        row = session.get(Meta, _KEY)
    return _policy(row, default_transitions, default_scale, wall)


def _policy(row: Meta | None, default_transitions: str, default_scale: float, wall: WallClock) -> Policy:
    if row is None or not isinstance(row.value, dict):
        now = wall()
        return Policy(default_transitions, default_scale, now, now)
    v = row.value
    return Policy(v["transitions"], float(v["time_scale"]), float(v["anchor_wall"]), float(v["anchor_virtual"]))


def save_policy(session: Session, policy: Policy, *, source: str | None = None) -> None:
    _store(session, locked_meta(session, _KEY), policy, source)


def _store(session: Session, row: Meta, policy: Policy, source: str | None = None) -> None:
    row.value = policy.to_json() | ({"source": source} if source else {})
    session.add(row)
    bump(session)


def change_policy(db: Any, change: Callable[[Policy], Policy], *, default_transitions: str, default_scale: float,
                  wall: WallClock = time.time) -> Policy:
    """Read, change and store the shared policy as one locked step (db.locked_meta): concurrent changes from
    several processes (two clock advances, say) all count instead of one overwriting the other."""
    with db.session() as s:
        row = locked_meta(s, _KEY)
        policy = change(_policy(row, default_transitions, default_scale, wall))
        _store(s, row, policy)
    return policy


def seed_policy(db: Any, *, transitions: str, time_scale: float, wall: WallClock = time.time) -> None:
    """At start-up, store this process's flags as the shared policy unless the control plane has set one.

    Without a stored policy each request anchors the clock at its own wall time, so a `manual` clock
    would follow the wall clock and processes would disagree. A policy stored from flags gives way to
    different flags at the next start (virtual time carries on from where it stood); one set through the
    control plane stays. Processes starting at once serialize on the row's lock: the first stores, the
    others find its policy.
    """
    with db.session() as s:
        row = locked_meta(s, _KEY)
        now = wall()
        if isinstance(row.value, dict):
            if row.value.get("source") != "flags":
                return
            current = _policy(row, transitions, time_scale, wall)
            if (current.transitions, current.time_scale) == (transitions, time_scale):
                return
            policy = Policy(transitions, time_scale, now, current.now(now))
        else:
            policy = Policy(transitions, time_scale, now, now)
        _store(s, row, policy, source="flags")


def _reanchor(policy: Policy, wall: float, **changes: object) -> Policy:
    fields = policy.to_json() | {"anchor_wall": wall, "anchor_virtual": policy.now(wall)} | changes
    return Policy(**fields)  # type: ignore[arg-type]


def advance(policy: Policy, seconds: float, wall: float) -> Policy:
    moved = _reanchor(policy, wall)
    return Policy(moved.transitions, moved.time_scale, moved.anchor_wall, moved.anchor_virtual + seconds)


def set_transitions(policy: Policy, transitions: str, wall: float) -> Policy:
    return _reanchor(policy, wall, transitions=transitions)


def set_time_scale(policy: Policy, scale: float, wall: float) -> Policy:
    return _reanchor(policy, wall, time_scale=scale)
