"""The shared virtual clock and transition policy, stored in the database so every process agrees.

virtual_now = anchor_virtual + (wall_now - anchor_wall) × rate, with rate 1 under `realtime` and
`immediate` and 0 under `manual` (time moves only when the control plane advances it). Simulated job
durations are divided by `time_scale`; under `immediate` they are zero.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlmodel import Session

from mockserver.tables import Meta

__all__ = ["Policy", "load_policy", "save_policy", "advance", "set_transitions", "set_time_scale",
           "WallClock"]

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


def load_policy(session: Session, *, default_transitions: str, default_scale: float,
                wall: WallClock = time.time) -> Policy:
    row = session.get(Meta, _KEY)
    if row is None or not isinstance(row.value, dict):
        now = wall()
        return Policy(default_transitions, default_scale, now, now)
    v = row.value
    return Policy(v["transitions"], float(v["time_scale"]), float(v["anchor_wall"]), float(v["anchor_virtual"]))


def save_policy(session: Session, policy: Policy) -> None:
    row = session.get(Meta, _KEY)
    if row is None:
        session.add(Meta(key=_KEY, value=policy.to_json()))
    else:
        row.value = policy.to_json()
        session.add(row)


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
