"""The emulator's services, built once per app: settings, database, ids, keys, file store, clock."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Connection
from sqlmodel import Session, select

from mockserver.cache import Caches, View
from mockserver.db import Database
from mockserver.files.blobs import BlobStore
from mockserver.ids import IdFactory
from mockserver.jobs import clock
from mockserver.settings import Settings
from mockserver.tables import FileRow, FixtureRow, JobRow, UploadPartRow, UploadRow
from mockserver.tenancy import KeyRing

__all__ = ["Services", "open_blob_store"]


@dataclass
class Services:
    settings: Settings
    db: Database
    ids: IdFactory
    keys: KeyRing
    files: BlobStore
    caches: Caches
    wall: Callable[[], float] = time.time

    @classmethod
    def build(cls, settings: Settings, *, wall: Callable[[], float] = time.time) -> Services:
        db = Database(settings.db_url, durable=settings.durable)
        services = cls(settings=settings, db=db, ids=IdFactory(settings.seed, taken=_id_taken(db)),
                       keys=KeyRing.from_file(settings.keys_file, require_known=settings.require_known_keys),
                       files=open_blob_store(settings), caches=Caches(db), wall=wall)
        services.seed_policy()
        return services

    def seed_policy(self) -> None:
        """Store the flags' clock policy unless the control plane has set one (see clock.seed_policy)."""
        clock.seed_policy(self.db, transitions=self.settings.transitions, time_scale=self.settings.time_scale,
                          wall=self.wall)

    def change_policy(self, change: Callable[[clock.Policy], clock.Policy]) -> clock.Policy:
        """Change the shared clock policy atomically across processes (see clock.change_policy)."""
        return clock.change_policy(self.db, change, default_transitions=self.settings.transitions,
                                   default_scale=self.settings.time_scale, wall=self.wall)

    def policy(self, session: Session | Connection | None = None, *, view: View | None = None) -> clock.Policy:
        """The shared clock policy, through the per-process caches (mockserver.cache: any change to it,
        in any process, moves the database's cache generation and so reloads it).

        The generation is read on the caches' own connection (not on `session`: ~5 µs against a statement
        of the session's), and a miss loads the policy on a session of its own, so what is cached was read
        after the generation it is kept under whatever `session`'s transaction has seen. An in-memory
        database has one connection: there `session` (when given) is the one used. `view`: the caller's
        (its generation read once for the whole call)."""
        view = view or self.caches.view()
        policy = view.slot("policy")
        if policy is None:
            shared = session is not None and self.caches.in_memory
            with contextlib.nullcontext(session) if shared else self.db.session() as s:
                policy = view.put_slot("policy", clock.load_policy(
                    s, default_transitions=self.settings.transitions, default_scale=self.settings.time_scale,
                    wall=self.wall))
        return policy

    def now(self, session: Session | Connection | None = None) -> int:
        """Virtual Unix seconds, the timestamp every new object gets."""
        return int(self.policy(session).now(self.wall()))


def open_blob_store(settings: Settings) -> BlobStore:
    """The blob store `--blob-url` / `--blob-store` select (mockserver.files.blobs says what each does)."""
    if settings.blob_url is not None:
        from mockserver.files.blobs_s3 import S3BlobStore

        return S3BlobStore(settings.blob_url, db_url=settings.db_url)
    if settings.blobs_in_database:
        from mockserver.files.blobs_pg import PostgresBlobStore

        return PostgresBlobStore(settings.db_url)
    from mockserver.files.storage import DataDirStore

    return DataDirStore(settings.data_dir, durable=settings.durable)


_ID_COLUMNS = {"file": FileRow.id, "upload": UploadRow.id, "part": UploadPartRow.id, "job": JobRow.id,
               "fixture": FixtureRow.id,
               "model": JobRow.model_token}


def _id_taken(db: Database) -> Callable[[str, str], bool] | None:
    """Whether a seeded id is already stored (only seeded ids are checked: random ones do not repeat).

    The check reads on a connection of its own; an in-memory SQLite database has only one, shared with
    the caller's open transaction, so there it is skipped.
    """
    if db.url in ("sqlite://", "sqlite:///:memory:"):
        return None

    def taken(kind: str, value: str) -> bool:
        column = _ID_COLUMNS.get(kind)
        if column is None:
            return False
        with db.session() as s:
            return s.exec(select(column).where(column == value).limit(1)).first() is not None
    return taken
