"""The PostgreSQL blob store: every byte in the database, in rows of `blob_chunks` of up to 1 MiB.

Why chunked `bytea` rows and not large objects: rows are ordinary transactional data — a blob whose
writer dies is rolled back with its transaction, deleting the `blobs` row deletes its chunks (ON DELETE
CASCADE), pg_dump and logical replication carry them like any table, and psycopg 3 reads and writes them
with plain statements (it has no large-object API). The chunk column is stored EXTERNAL (out of line,
uncompressed): training files are text, but compressing 1 MiB per row costs more CPU than it saves I/O.

Writing: a writer takes a connection of its own, inserts the `blobs` row under a temporary key and
appends a chunk row per MiB received, all in one transaction; `publish` renames the key and commits.
Until then nothing is visible to anyone, and if the process dies PostgreSQL rolls the transaction back:
an upload cut short (or SIGKILLed) leaves no bytes. Reading: one short query per chunk, so a slow
download holds no connection and no transaction between chunks.

Crash leftovers are blobs published whose row never committed (the process died between the two
commits). Every process holds a shared advisory lock on a connection of its own while it lives
(mockserver.files.presence); the sweep takes the lock exclusively when it can — then no other process is
alive and every blob no row names goes — and otherwise removes only unnamed blobs older than an hour.
"""

from __future__ import annotations

import io
import secrets
from typing import Any, BinaryIO

from sqlalchemy import create_engine

from mockserver.files.blobs import CHUNK, BlobReader, BufferedBlobWriter, SharedBlobStore, file_key
from mockserver.files.presence import PostgresPresence

__all__ = ["PostgresBlobStore"]

_GRACE = "1 hour"


class PostgresBlobStore(SharedBlobStore):
    def __init__(self, url: str, *, max_connections: int = 64) -> None:
        # A pool of its own: long uploads hold a connection each and must not starve API requests.
        self.engine = create_engine(url, pool_size=4, max_overflow=max_connections - 4, pool_pre_ping=True)
        self.presence = PostgresPresence(self.engine)
        self._store_external()

    # --- connections ---------------------------------------------------------------------------------

    def _query(self, sql: str, params: tuple, *, binary: bool = False) -> list[tuple]:
        fairy = self.engine.raw_connection()
        try:
            conn = fairy.driver_connection
            with conn.cursor(binary=binary) as cur:
                cur.execute(sql, params)
                rows = cur.fetchall() if cur.description is not None else []
            conn.commit()
            return rows
        finally:
            fairy.close()

    def _store_external(self) -> None:
        """Chunks out of line and uncompressed; altered once (ALTER TABLE would wait for open uploads)."""
        rows = self._query("SELECT attstorage FROM pg_attribute WHERE attrelid = 'blob_chunks'::regclass "
                           "AND attname = 'data'", ())
        if rows and rows[0][0] != "e":
            self._query("ALTER TABLE blob_chunks ALTER COLUMN data SET STORAGE EXTERNAL", ())

    # --- the interface -------------------------------------------------------------------------------

    def writer(self) -> PostgresBlobWriter:
        return PostgresBlobWriter(self)

    def _find(self, key: str) -> tuple[int, int, int] | None:
        rows = self._query("SELECT id, size, (extract(epoch FROM created_at) * 1e6)::bigint FROM blobs "
                           "WHERE key = %s", (key,))
        return rows[0] if rows else None

    def open(self, key: str) -> BinaryIO:
        found = self._find(key)
        if found is None:
            raise FileNotFoundError(key)
        return io.BufferedReader(_ChunkReader(self, key, found[0], found[1]), buffer_size=CHUNK)

    def stat(self, key: str) -> tuple[int, int] | None:
        found = self._find(key)
        return None if found is None else (found[1], found[0] * 1_000_003 + found[2])

    def copy(self, key: str, name: str) -> str:
        """Chunks copied inside the database, in one transaction (no byte travels to this process)."""
        dest = file_key(name)
        fairy = self.engine.raw_connection()
        try:
            conn = fairy.driver_connection
            found = conn.execute("SELECT id, size FROM blobs WHERE key = %s", (key,)).fetchone()
            if found is None:
                raise FileNotFoundError(key)
            conn.execute("DELETE FROM blobs WHERE key = %s", (dest,))
            # Two processes may snapshot the same job at once: the first copy to commit wins and the other
            # keeps it (ON CONFLICT waits for the first, then inserts nothing) instead of failing.
            inserted = conn.execute("INSERT INTO blobs (key, size) VALUES (%s, %s) ON CONFLICT (key) DO NOTHING "
                                    "RETURNING id", (dest, found[1])).fetchone()
            if inserted is None:
                conn.rollback()
                return dest
            conn.execute("INSERT INTO blob_chunks (blob_id, seq, data) SELECT %s, seq, data FROM blob_chunks "
                         "WHERE blob_id = %s", (inserted[0], found[0]))
            conn.commit()
            return dest
        finally:
            fairy.close()

    def remove(self, key: str) -> None:
        self._query("DELETE FROM blobs WHERE key = %s", (key,))

    def remove_all(self) -> int:
        return len(self._query("DELETE FROM blobs RETURNING id", ()))  # a writer's own row is not visible

    def sweep(self, known: set[str]) -> int:
        with self.presence.alone() as alone:
            rows = self._query(f"SELECT key FROM blobs WHERE %s OR created_at < now() - interval '{_GRACE}'",
                               (alone,))
            stale = [k for (k,) in rows if k not in known]
            if stale:
                self._query("DELETE FROM blobs WHERE key = ANY(%s)", (stale,))
            return len(stale)

    def usage(self) -> tuple[int, int]:
        """(blobs, bytes in chunks) visible now: for tests and operators."""
        rows = self._query("SELECT (SELECT count(*) FROM blobs), (SELECT coalesce(sum(length(data)), 0) "
                           "FROM blob_chunks)", ())
        return int(rows[0][0]), int(rows[0][1])

    def release(self) -> None:
        self.engine.dispose()


class PostgresBlobWriter(BufferedBlobWriter):
    """Chunks buffered up to 1 MiB in memory (`unit`: CHUNK, the default), each flushed as a row of the writer's
    open transaction."""

    def __init__(self, store: PostgresBlobStore) -> None:
        super().__init__(store)
        self.fairy: Any = None
        self.blob_id: int | None = None
        self.seq = 0

    def _conn(self) -> Any:
        self.check_live()
        if self.fairy is None:
            self.fairy = self.store.engine.raw_connection()
            conn = self.fairy.driver_connection
            row = conn.execute("INSERT INTO blobs (key, size) VALUES (%s, 0) RETURNING id",
                               (f"tmp/{secrets.token_hex(12)}",)).fetchone()
            self.blob_id = row[0]
        return self.fairy.driver_connection

    def _insert(self, chunk: bytes | memoryview) -> None:
        self._conn().execute("INSERT INTO blob_chunks (blob_id, seq, data) VALUES (%s, %s, %b)",
                             (self.blob_id, self.seq, chunk))
        self.seq += 1

    def flush(self) -> None:
        if len(self.buf) < CHUNK:
            return
        view = memoryview(self.buf)
        done = 0
        try:
            while len(self.buf) - done >= CHUNK:
                self._insert(view[done:done + CHUNK])
                done += CHUNK
        finally:
            view.release()
        del self.buf[:done]

    def close(self) -> None:
        self.flush()
        if self.buf or self.seq == 0:
            self._insert(bytes(self.buf))
        self.buf = bytearray()
        self.closed = True

    def publish(self, name: str) -> str:
        assert self.closed and self.fairy is not None, "publish() needs a closed writer"
        key = file_key(name)
        conn = self.fairy.driver_connection
        conn.execute("DELETE FROM blobs WHERE key = %s", (key,))
        conn.execute("UPDATE blobs SET key = %s, size = %s WHERE id = %s", (key, self.size, self.blob_id))
        conn.commit()
        self.published = True
        self._release()
        return key

    def abandon(self) -> None:
        self._release()  # the pool rolls the open transaction back: no row of this blob remains

    def _release(self) -> None:
        fairy, self.fairy = self.fairy, None
        if fairy is not None:
            fairy.close()


class _ChunkReader(BlobReader):
    """Reads a blob chunk by chunk; a blob removed mid-read is an OSError, never short data. Seekable:
    every chunk but the last holds exactly CHUNK bytes (writers insert whole chunks, then the rest)."""

    def __init__(self, store: PostgresBlobStore, key: str, blob_id: int, size: int) -> None:
        super().__init__(key, size)
        self.store, self.blob_id = store, blob_id
        self.current = memoryview(b"")

    def _moved(self) -> None:
        self.current = memoryview(b"")

    def readinto(self, b: Any) -> int:
        if not self.current:
            if self.pos >= self.size:
                return 0
            rows = self.store._query("SELECT data FROM blob_chunks WHERE blob_id = %s AND seq = %s",
                                     (self.blob_id, self.pos // CHUNK), binary=True)
            if not rows:
                raise OSError(f"blob {self.key} was removed while it was being read")
            self.current = memoryview(rows[0][0])[self.pos % CHUNK:]
        n = min(len(b), len(self.current))
        b[:n] = self.current[:n]
        self.current = self.current[n:]
        self.pos += n
        return n
