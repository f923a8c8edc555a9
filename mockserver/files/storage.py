"""The data-dir blob store: bytes under `<data-dir>/files/`, written to tmp/, fsynced, then renamed.

Every process using a data dir holds a shared flock on `<data-dir>/.lock` while it lives (a SIGKILL
releases it). The startup sweep takes that lock exclusively when it can: then no other process is
alive, so every tmp file and every stored file no row points at is a leftover of a crash and goes.
When other processes are alive it removes only what cannot be theirs: tmp files named after a dead
pid (or its own), and files nobody points at that are older than an hour.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import logging
import os
import secrets
import time
import weakref
from pathlib import Path
from typing import BinaryIO

from contracts import errors
from mockserver.files.blobs import BlobStore, BlobWriter, file_key

__all__ = ["DataDirStore", "FileStore", "storage_error"]

log = logging.getLogger("mockserver")


def storage_error(e: OSError) -> errors.ServerError:
    """The retryable 500 for a failure of the server's own storage; the log (not the client) gets the path."""
    log.error("storage failure: %s", e)
    reason = {errno.ENOSPC: "the server's disk is full", errno.EDQUOT: "the server's disk quota is exhausted",
              errno.EROFS: "the server's data directory is read-only",
              errno.EACCES: "the server may not write its data directory",
              errno.ENOENT: "the server's data directory is missing"}.get(e.errno, "the server could not store data")
    return errors.ServerError(f"The server had an error while storing your request ({reason}). Retry later.")


_WRITEBACK_STEP = 8 * 1024 * 1024  # start the kernel's writeback of the file every 8 MiB received


class DataDirStore(BlobStore):
    """Content-addressed by object id; a crash before the rename leaves only a tmp file, swept at start."""

    def __init__(self, root: Path, *, durable: bool = True) -> None:
        self.root = Path(root)
        self.durable = durable
        self.tmp_dir = self.root / "tmp"
        self.files_dir = self.root / "files"
        self.tmp_dir.mkdir(parents=True, exist_ok=True)
        self.files_dir.mkdir(parents=True, exist_ok=True)
        self._lock_fd = os.open(self.root / ".lock", os.O_RDWR | os.O_CREAT, 0o644)
        weakref.finalize(self, os.close, self._lock_fd)
        fcntl.flock(self._lock_fd, fcntl.LOCK_SH)
        self._dirs = (str(self.tmp_dir), str(self.files_dir))
        self._root = str(self.root)   # keys are joined as strings: `Path / key` and os.stat of a Path cost ~2.5 µs more
        self._identity = [_identity(d) for d in self._dirs]

    def check_alive(self) -> None:
        """Raise the retryable 500 when the data dir was deleted or replaced while the server runs (writes
        would go to unlinked files and be lost at restart): its `tmp/` and `files/` must still be the
        directories it started with (two `stat` calls: a deleted or replaced data dir takes them along)."""
        try:
            same = [_identity(d) for d in self._dirs] == self._identity
        except OSError:
            same = False
        if not same:
            raise storage_error(OSError(errno.ENOENT, "data directory missing or replaced", str(self.root)))

    @property
    def data_dir(self) -> Path:
        return self.root

    def new_tmp(self) -> Path:
        self.check_alive()
        return self.tmp_dir / f"{os.getpid()}-{secrets.token_hex(8)}.part"

    def writer(self) -> DataDirWriter:
        return DataDirWriter(self)

    def publish(self, tmp: Path, object_id: str) -> str:
        """Move a complete, fsynced tmp file to its final name; returns the stored relative path."""
        rel = file_key(object_id)
        os.replace(tmp, os.path.join(self._root, rel))
        if self.durable:
            _fsync_dir(self.files_dir)
        return rel

    def sync(self, fd: int) -> None:
        """fsync, unless this store holds throwaway state (`durable=False`)."""
        if self.durable:
            os.fsync(fd)

    def local_path(self, key: str) -> Path:
        return self.root / key

    def open(self, key: str) -> BinaryIO:
        return open(os.path.join(self._root, key), "rb")

    def stat(self, key: str) -> tuple[int, int] | None:
        try:
            st = os.stat(os.path.join(self._root, key))
        except OSError:
            return None
        return st.st_size, st.st_mtime_ns ^ (st.st_ino << 1)

    def copy(self, key: str, name: str) -> str:
        """A hard link when the file system allows it (snapshots cost no space), else a streamed copy."""
        tmp = self.new_tmp()
        try:
            os.link(os.path.join(self._root, key), tmp)
        except FileNotFoundError:
            raise
        except OSError:
            return super().copy(key, name)
        return self.publish(tmp, name)

    def remove(self, rel: str) -> None:
        (self.root / rel).unlink(missing_ok=True)

    def remove_all(self) -> int:
        removed = 0
        for p in self.files_dir.iterdir():
            p.unlink(missing_ok=True)
            removed += 1
        return removed

    def sweep(self, known: set[str], *, tmp_older_than: float = 3600.0) -> int:
        """Remove crash leftovers (see the module docstring); returns how many files were removed."""
        alone = self._try_exclusive()
        try:
            cutoff = time.time() - tmp_older_than
            removed = 0
            for p in self.tmp_dir.iterdir():
                if alone or _owner_gone(p.name) or _mtime(p) < cutoff:
                    p.unlink(missing_ok=True)
                    removed += 1
            for p in self.files_dir.iterdir():
                if f"files/{p.name}" not in known and (alone or _mtime(p) < cutoff):
                    p.unlink(missing_ok=True)
                    removed += 1
            return removed
        finally:
            fcntl.flock(self._lock_fd, fcntl.LOCK_SH)

    def _try_exclusive(self) -> bool:
        """True when no other process holds the data dir (a failed upgrade may drop our shared lock)."""
        try:
            fcntl.flock(self._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True


def _identity(path: Path | str) -> tuple[int, int]:
    st = os.stat(path)
    return st.st_dev, st.st_ino


class DataDirWriter(BlobWriter):
    """A tmp file in `<data-dir>/tmp/` named after this process (so the sweep knows whose it is)."""

    def __init__(self, store: DataDirStore) -> None:
        self.store = store
        self.tmp: Path | None = None
        self.fd: int | None = None
        self.written_back = 0  # bytes whose writeback has been started

    def _open(self) -> int:
        if self.fd is None:
            self.tmp = self.store.new_tmp()
            self.fd = os.open(self.tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        return self.fd

    def write(self, data: bytes | memoryview) -> None:
        fd = self._open()
        chunk = memoryview(data)
        self.size += len(chunk)
        while chunk:
            chunk = chunk[os.write(fd, chunk):]
        if self.size - self.written_back >= _WRITEBACK_STEP:
            _start_writeback(fd, self.written_back, self.size - self.written_back)
            self.written_back = self.size

    def close(self) -> None:
        fd = self._open()
        self.store.sync(fd)
        os.close(fd)
        self.fd = -1

    async def aclose(self) -> None:
        self.close()  # fsync of the last few MiB: writeback was started as the bytes arrived

    def publish(self, name: str) -> str:
        assert self.tmp is not None and self.fd == -1, "publish() needs a closed writer"
        key = self.store.publish(self.tmp, name)
        self.tmp = None
        return key

    def discard(self) -> None:
        if self.fd is not None and self.fd >= 0:
            os.close(self.fd)
        self.fd = -1
        if self.tmp is not None:
            self.tmp.unlink(missing_ok=True)
            self.tmp = None


FileStore = DataDirStore  # the name before the blob-store interface


def _start_writeback(fd: int, offset: int, length: int) -> None:
    """Have the kernel start writing a range to disk now, without waiting (Linux: POSIX_FADV_DONTNEED
    starts writeback of dirty pages, then drops the clean ones), so the fsync at the end of the part
    waits for the last few MiB instead of the whole file: -60 ms per 128 MiB here. Advisory only."""
    advise = getattr(os, "posix_fadvise", None)
    if advise is not None:
        with contextlib.suppress(OSError):
            advise(fd, offset, length, os.POSIX_FADV_DONTNEED)


def _mtime(p: Path) -> float:
    try:
        return p.stat().st_mtime
    except FileNotFoundError:
        return float("inf")


def _owner_gone(name: str) -> bool:
    """A tmp file `<pid>-<random>.part` whose process is this one (nothing in flight at start) or dead."""
    pid_text = name.split("-", 1)[0]
    if not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:
        return False
    return False


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# POST endpoints that store nothing (their answers are computed from what is already stored)
WRITE_FREE_POSTS = frozenset({"/v1/chat/completions", "/v1/completions"})


def may_write(scope) -> bool:
    """Whether an HTTP request may store something: not a GET/HEAD/OPTIONS, nor a WRITE_FREE_POSTS path (the
    requests the data-dir guard checks, in the middleware stack and on the hot path alike)."""
    return scope["method"] not in ("GET", "HEAD", "OPTIONS") and scope["path"] not in WRITE_FREE_POSTS


class DataDirGuard:
    """ASGI middleware: every request that may write (not GET/HEAD/OPTIONS, nor a WRITE_FREE_POSTS path)
    first checks that the data dir is still the one the server started with; a deleted or replaced one is a
    retryable 500, never a 200 for a write that the next restart would not find."""

    def __init__(self, app, *, store: FileStore) -> None:
        self.app = app
        self.store = store

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http" and may_write(scope):
            try:
                self.store.check_alive()
            except errors.APIError as e:
                from mockserver.http import JSONResponse

                await JSONResponse(e.body(), status_code=e.status)(scope, receive, send)
                return
        await self.app(scope, receive, send)
