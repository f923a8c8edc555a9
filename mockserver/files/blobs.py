"""Where file bytes live: one interface, three backends chosen by `--blob-store` / `--blob-url`
(services.open_blob_store).

- `DataDirStore` (mockserver.files.storage): files under `<data-dir>/files/`, the default with SQLite.
- `PostgresBlobStore` (mockserver.files.blobs_pg): every byte in the PostgreSQL database, in 1 MiB rows of
  `blob_chunks`; the default with a PostgreSQL `--database-url`, so replicas need no shared disk.
- `S3BlobStore` (mockserver.files.blobs_s3): objects in an S3-compatible store, with `--blob-url s3://…`.
  The last two are `SharedBlobStore`s: every replica reads and writes the same bytes.

Keys are the strings the rows store (`files/<object id>`); both backends use the same ones, so rows do not
say where their bytes are. Every blob is written through a `BlobWriter` (streamed in, constant memory),
made durable by `close()`, and becomes visible under its key by `publish()`, which the caller runs before
it commits the row that names the key; a writer that is never published leaves nothing behind (its bytes
are discarded, or swept after a crash). `remove()` runs after the row's deletion committed; `sweep()`
removes bytes no row names.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import logging
from abc import ABC, abstractmethod
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from sqlalchemy import event
from sqlmodel import Session, col, select

from mockserver.tables import BatchRow, FileRow, JobRow, ModelRow, UploadPartRow

if TYPE_CHECKING:
    from mockserver.files.presence import Presence

__all__ = ["CHUNK", "DERIVED", "BlobWriter", "BufferedBlobWriter", "BlobStore", "SharedBlobStore", "referenced_keys", "snapshot_key",
           "snapshot_name", "file_key", "batch_input_key", "batch_keys", "BlobStoreUnavailable", "BlobReader"]

CHUNK = 1 << 20  # bytes per PostgreSQL row and per read
DERIVED = "derived:"  # a row path with this prefix names no blob: its content is computed (files.store.content)
log = logging.getLogger("mockserver")


class BlobStoreUnavailable(RuntimeError):
    """The configured blob store cannot be used (missing client library, unreachable bucket): the server
    does not start; the message says why."""


def file_key(name: str) -> str:
    """The key a blob published as `name` (an object id) is stored under."""
    return f"files/{name}"


def snapshot_name(job_id: str) -> str:
    """The name a job's training-data snapshot (the data its model answers from) is published as."""
    return f"ftdata-{job_id}"


def snapshot_key(job_id: str) -> str:
    return file_key(snapshot_name(job_id))


def batch_input_key(batch_id: str) -> str:
    """The batch's copy of its input file (taken at validation: the file may be deleted while it runs)."""
    return file_key(f"batchin-{batch_id}")


def batch_keys(batch_id: str, out_path: str | None, err_path: str | None, segments: list | None) -> list[str]:
    """Every blob a batch row names: its input copy, and the answers of its committed steps (the output
    and error parts of each, after the partial files of a batch from before they were kept as parts)."""
    parts = [out_path, err_path] + [k for pair in segments or () for k in pair]
    return [batch_input_key(batch_id)] + [k for k in parts if k]


class BlobWriter(ABC):
    """One blob being written. `write` never does network I/O: it writes locally or buffers, and
    `pending()` says when `flush()` (blocking; `drain()` runs it off the event loop) should push."""

    size: int = 0

    @abstractmethod
    def write(self, data: bytes | memoryview) -> None: ...

    def pending(self) -> bool:
        return False

    def flush(self) -> None:  # noqa: B027 - a store that writes as it goes has nothing to push
        """Push what is buffered in whole chunks (blocking)."""

    async def drain(self) -> None:
        if self.pending():
            await asyncio.to_thread(self.flush)

    @abstractmethod
    def close(self) -> None:
        """Push the rest and make the bytes durable (blocking); nothing is visible yet."""

    async def aclose(self) -> None:
        await asyncio.to_thread(self.close)

    @abstractmethod
    def publish(self, name: str) -> str:
        """Make the closed blob visible under `file_key(name)` (replacing any blob there); returns the key."""

    @abstractmethod
    def discard(self) -> None:
        """Forget an unpublished blob; safe to call more than once, and after `publish` (then a no-op)."""

    def write_all(self, chunks: Iterable[bytes]) -> None:
        for chunk in chunks:
            self.write(chunk)
            self.flush()


class BufferedBlobWriter(BlobWriter):
    """A writer that buffers in memory and pushes whole `unit`-byte pieces (PostgreSQL chunks, S3 parts)."""

    unit: int = CHUNK

    def __init__(self, store: Any) -> None:
        self.store = store          # the BlobStore it writes into
        self.buf = bytearray()
        self.closed = False
        self.published = False
        self.discarded = False

    def write(self, data: bytes | memoryview) -> None:
        self.buf += data
        self.size += len(data)

    def pending(self) -> bool:
        return len(self.buf) >= self.unit

    def discard(self) -> None:
        self.discarded = not self.published
        self.buf = bytearray()
        self.abandon()

    @abstractmethod
    def abandon(self) -> None:
        """The backend's part of `discard`: drop what was pushed of an unpublished blob (idempotent)."""

    def check_live(self) -> None:
        """Refuse to push for a writer already discarded (a flush still running in a thread after its
        request was abandoned)."""
        if self.discarded:
            raise OSError("the blob was discarded while it was being written")


class BlobStore(ABC):
    """The bytes of files, upload parts, results files and training-data snapshots, by key."""

    @abstractmethod
    def writer(self) -> BlobWriter: ...

    @abstractmethod
    def open(self, key: str) -> BinaryIO:
        """A seekable binary reader (blocking); FileNotFoundError when there is no such blob."""

    @abstractmethod
    def stat(self, key: str) -> tuple[int, int] | None:
        """(size, version) of a blob, or None; the version changes whenever the key is written again."""

    @abstractmethod
    def remove(self, key: str) -> None: ...

    @abstractmethod
    def remove_all(self) -> int:
        """Remove every published blob (a full reset); returns how many."""

    @abstractmethod
    def sweep(self, known: set[str]) -> int:
        """Remove crash leftovers: bytes of writers never published, and blobs no row names (see each
        backend for how it avoids what another live process is still writing); returns how many."""

    def check_alive(self) -> None:  # noqa: B027 - a store with no local directory has nothing to check
        """Raise the retryable 500 when the store can no longer keep what it is given (see DataDirGuard)."""

    def remove_after_commit(self, session: Session, keys: list[str]) -> None:
        """Remove these blobs once `session` commits (never before: a rolled-back deletion keeps its bytes).
        A blob that cannot be removed now stays for the sweep, which removes every blob no live row names;
        the request still succeeds."""
        if not keys:
            return

        def remove(_: Session) -> None:
            for key in keys:
                try:
                    self.remove(key)
                except Exception as e:  # the sweep removes it later
                    log.warning("could not remove %s now (the next sweep will): %s", key, e)
        event.listen(session, "after_commit", remove, once=True)

    def local_path(self, key: str) -> Path | None:
        """The blob as a local file (served with sendfile, validated by several processes), if it is one."""
        return None

    @property
    def data_dir(self) -> Path | None:
        """The local directory this store keeps its bytes in (other per-host state may go there too)."""
        return None

    def write_bytes(self, name: str, data: bytes) -> str:
        """A small blob the emulator writes itself (results files)."""
        w = self.writer()
        try:
            w.write_all([data])
            w.close()
            return w.publish(name)
        finally:
            w.discard()

    def copy(self, key: str, name: str) -> str:
        """A copy of blob `key` published as `name`, streamed (training-data snapshots)."""
        w = self.writer()
        try:
            with self.open(key) as f:
                w.write_all(iter(lambda: f.read(CHUNK), b""))
            w.close()
            return w.publish(name)
        finally:
            w.discard()

    def concatenate(self, keys: list[str], w: BlobWriter) -> str:
        """Append the blobs `keys` to `w`, in order, and close it; returns the md5 hex digest of what went in."""
        md5 = hashlib.md5(usedforsecurity=False)
        for key in keys:
            with self.open(key) as f:
                while chunk := f.read(CHUNK):
                    md5.update(chunk)
                    w.write(chunk)
                    w.flush()
        w.close()
        return md5.hexdigest()

    def close(self) -> None:  # noqa: B027 - a store that holds nothing has nothing to release
        """Release connections and locks (the process is ending)."""


class SharedBlobStore(BlobStore):
    """A store every replica shares (PostgreSQL, S3). Each process holds a presence lock in the shared
    database (mockserver.files.presence), so a sweep can tell a dead writer's leftovers from a live one's."""

    presence: Presence

    def close(self) -> None:
        self.presence.close()
        self.release()

    @abstractmethod
    def release(self) -> None:
        """Close the store's own client (its connection pool or S3 client)."""


class BlobReader(io.RawIOBase):
    """The raw reader of a remote blob (wrap it in io.BufferedReader): subclasses fetch from `pos` in
    `readinto` and drop what they hold for the old position in `_moved`."""

    def __init__(self, key: str, size: int) -> None:
        self.key, self.size, self.pos = key, size, 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self.pos, io.SEEK_END: self.size}[whence]
        target = max(0, base + offset)
        if target != self.pos:
            self.pos = target
            self._moved()
        return self.pos

    def _moved(self) -> None:
        """The position changed: forget what was fetched for the old one."""


def referenced_keys(s: Session) -> set[str]:
    """Every blob key a row names: live files, deleted files a job trained on (its models answer from their
    bytes), upload parts, training-data snapshots of jobs and models,
    a batch's input copy and the parts of its answers."""
    known = {p for p in s.exec(select(FileRow.path).where(col(FileRow.deleted).is_(False)))
             if not p.startswith(DERIVED)}
    known |= set(s.exec(select(UploadPartRow.path)))
    known |= {snapshot_key(j) for j in s.exec(select(JobRow.id))}   # copies made before models referenced files
    known |= set(s.exec(select(FileRow.path).where(col(FileRow.id).in_(select(JobRow.training_file)))))
    known |= {k for k in s.exec(select(ModelRow.training_file)) if k}
    for batch in s.exec(select(BatchRow.id, BatchRow.out_path, BatchRow.err_path, BatchRow.segments)):
        known.update(batch_keys(*batch))
    return known
