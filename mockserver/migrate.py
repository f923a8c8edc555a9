"""`mockserver migrate --from sqlite:///…/state.db --to postgresql+psycopg://…`: move a deployment's state.

Copies every row of every table (ids, `seq` order and cursors unchanged) and every byte a row names —
files, upload parts, training-data snapshots, results files — from the source's blob store (the data
dir beside the SQLite file, or `--from-data-dir`) into the destination's (in PostgreSQL by default, or
in S3 with `--to-blob-url s3://bucket/prefix`). The bytes go first, each streamed in 1 MiB chunks, then all rows in one transaction, so
a migration that fails leaves no row behind (and the bytes it copied are swept as unnamed). The
destination must hold no rows yet; stop the servers on the source first.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Integer, func, insert, select, text
from sqlmodel import Session, SQLModel

from mockserver.db import Database
from mockserver.files.blobs import CHUNK, BlobStore, BlobStoreUnavailable, referenced_keys
from mockserver.services import open_blob_store
from mockserver.settings import Settings, SettingsError
from mockserver.tables import BlobChunkRow, BlobRow, CacheGeneration, Meta

__all__ = ["MigrationError", "Migrated", "migrate", "main", "named_keys"]

_BATCH = 1000
# the blob store's own bookkeeping (bytes go by key) and the destination's own cache generation
_SKIP = {BlobRow.__tablename__, BlobChunkRow.__tablename__, CacheGeneration.__tablename__}


class MigrationError(RuntimeError):
    """The migration cannot start (the message says why); nothing was written."""


@dataclass
class Migrated:
    rows: dict[str, int] = field(default_factory=dict)
    blobs: int = 0
    bytes: int = 0
    missing: list[str] = field(default_factory=list)  # keys a row names whose bytes the source lacks

    def summary(self) -> str:
        rows = ", ".join(f"{n} {t}" for t, n in self.rows.items() if n)
        text_ = f"copied {rows or 'no rows'}; {self.blobs} blobs, {self.bytes} bytes"
        return text_ + (f"; {len(self.missing)} named blobs were missing in the source" if self.missing else "")


def migrate(source_url: str, dest_url: str, *, source_data_dir: Path | None = None,
            dest_settings: Settings | None = None) -> Migrated:
    if source_url == dest_url:
        raise MigrationError("--from and --to name the same database")
    if source_data_dir is None:
        if not source_url.startswith("sqlite:///"):
            raise MigrationError("--from-data-dir is needed: the source is not a SQLite file in a data dir")
        source_data_dir = _sqlite_dir(source_url)
    src_settings = Settings(database_url=source_url, data_dir=source_data_dir, blob_store="data-dir")
    dst_settings = dest_settings or Settings(database_url=dest_url, data_dir=_sqlite_dir(dest_url))
    src, dst = Database(source_url), Database(dest_url)
    try:
        _require_empty(dst)
        src_blobs, dst_blobs = open_blob_store(src_settings), open_blob_store(dst_settings)
        try:
            out = Migrated()
            with src.session() as s:
                keys = sorted(named_keys(s))
            for key in keys:
                _copy_blob(src_blobs, dst_blobs, key, out)
            _copy_rows(src, dst, out)
            return out
        finally:
            src_blobs.close()
            dst_blobs.close()
    finally:
        src.dispose()
        dst.dispose()


def _sqlite_dir(url: str) -> Path:
    """The data dir beside a SQLite file (unused for PostgreSQL, whose bytes go into the database)."""
    return Path(url.removeprefix("sqlite:///")).parent if url.startswith("sqlite:///") else Path(".mockserver")


def named_keys(s: Session) -> set[str]:
    """Every blob key a row names (what the sweep keeps)."""
    return referenced_keys(s)


def _tables() -> list:
    return [t for t in SQLModel.metadata.sorted_tables if t.name not in _SKIP]


def _require_empty(db: Database) -> None:
    with db.session() as s:
        for table in _tables():
            query = select(func.count()).select_from(table)
            if table.name == Meta.__tablename__:
                query = query.where(table.c.key != "schema_version")
            if s.execute(query).scalar():
                raise MigrationError(f"the destination already holds rows (table {table.name}); "
                                     "migrate into an empty database")


def _copy_blob(src: BlobStore, dst: BlobStore, key: str, out: Migrated) -> None:
    try:
        reader = src.open(key)
    except FileNotFoundError:
        out.missing.append(key)
        return
    w = dst.writer()
    try:
        with reader:
            w.write_all(iter(lambda: reader.read(CHUNK), b""))
        w.close()
        w.publish(key.removeprefix("files/"))
    finally:
        w.discard()
    out.blobs += 1
    out.bytes += w.size


def _copy_rows(src: Database, dst: Database, out: Migrated) -> None:
    with src.session() as read, dst.session() as write:
        for table in _tables():
            query = select(table)
            if table.name == Meta.__tablename__:
                query = query.where(table.c.key != "schema_version")
            out.rows[table.name] = _copy_table(read, write, table, query)
        if not dst.is_sqlite:
            _advance_sequences(write)


def _copy_table(read: Session, write: Session, table, query) -> int:
    n = 0
    result = read.execute(query.execution_options(yield_per=_BATCH))
    for batch in result.mappings().partitions(_BATCH):
        write.execute(insert(table), [dict(row) for row in batch])
        n += len(batch)
    return n


def _advance_sequences(s: Session) -> None:
    """PostgreSQL: serial columns continue after the copied ids (the copy set them explicitly)."""
    for table in _tables():
        for column in table.primary_key.columns:
            if isinstance(column.type, Integer) and column.autoincrement is not False:
                s.execute(text(f"SELECT setval(pg_get_serial_sequence('{table.name}', '{column.name}'), "
                               f"coalesce((SELECT max({column.name}) FROM {table.name}), 0) + 1, false)"))


def main(args: dict) -> int:
    to_blob_url = args.get("to_blob_url")
    try:
        dest = Settings(database_url=args["to_url"], data_dir=_sqlite_dir(args["to_url"]),
                        blob_url=to_blob_url) if to_blob_url else None
        result = migrate(args["from_url"], args["to_url"], source_data_dir=args.get("from_data_dir"),
                         dest_settings=dest)
    except (MigrationError, SettingsError, BlobStoreUnavailable) as e:
        print(f"mockserver migrate: {e}", file=sys.stderr)
        return 2
    print(f"mockserver migrate: {result.summary()}", file=sys.stderr)
    return 0
