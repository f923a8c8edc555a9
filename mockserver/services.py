"""The emulator's services, built once per app: settings, database, ids, keys, file store, clock."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session

from mockserver import clock
from mockserver.db import Database
from mockserver.ids import IdFactory
from mockserver.settings import Settings
from mockserver.storage import FileStore
from mockserver.tenancy import KeyRing

__all__ = ["Services"]


@dataclass
class Services:
    settings: Settings
    db: Database
    ids: IdFactory
    keys: KeyRing
    files: FileStore
    wall: Callable[[], float] = time.time
    cache: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def build(cls, settings: Settings, *, wall: Callable[[], float] = time.time) -> Services:
        db = Database(settings.db_url)
        return cls(settings=settings, db=db, ids=IdFactory(settings.seed),
                   keys=KeyRing.from_file(settings.keys_file, require_known=settings.require_known_keys),
                   files=FileStore(settings.data_dir), wall=wall)

    def policy(self, session: Session) -> clock.Policy:
        return clock.load_policy(session, default_transitions=self.settings.transitions,
                                 default_scale=self.settings.time_scale, wall=self.wall)

    def now(self, session: Session) -> int:
        """Virtual Unix seconds, the timestamp every new object gets."""
        return int(self.policy(session).now(self.wall()))
