"""File bytes on disk under the data dir: written to tmp/, fsynced, then renamed into files/.

Every process using a data dir holds a shared flock on `<data-dir>/.lock` while it lives (a SIGKILL
releases it). The startup sweep takes that lock exclusively when it can: then no other process is
alive, so every tmp file and every stored file no row points at is a leftover of a crash and goes.
When other processes are alive it removes only what cannot be theirs: tmp files named after a dead
pid (or its own), and files nobody points at that are older than an hour.
"""

from __future__ import annotations

import errno
import fcntl
import logging
import os
import secrets
import time
import weakref
from pathlib import Path

from sqlalchemy import event
from sqlmodel import Session

from contracts import errors

__all__ = ["FileStore", "storage_error"]

log = logging.getLogger("mockserver")


def storage_error(e: OSError) -> errors.ServerError:
    """The retryable 500 for a failure of the server's own storage; the log (not the client) gets the path."""
    log.error("storage failure: %s", e)
    reason = {errno.ENOSPC: "the server's disk is full", errno.EDQUOT: "the server's disk quota is exhausted",
              errno.EROFS: "the server's data directory is read-only",
              errno.EACCES: "the server may not write its data directory",
              errno.ENOENT: "the server's data directory is missing"}.get(e.errno, "the server could not store data")
    return errors.ServerError(f"The server had an error while storing your request ({reason}). Retry later.")


class FileStore:
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
        self._identity = _identity(self.root)

    def check_alive(self) -> None:
        """Raise the retryable 500 when the data dir was deleted or replaced while the server runs (writes
        would go to unlinked files and be lost at restart)."""
        try:
            same = _identity(self.root) == self._identity and self.tmp_dir.is_dir() and self.files_dir.is_dir()
        except OSError:
            same = False
        if not same:
            raise storage_error(OSError(errno.ENOENT, "data directory missing or replaced", str(self.root)))

    def new_tmp(self) -> Path:
        self.check_alive()
        return self.tmp_dir / f"{os.getpid()}-{secrets.token_hex(8)}.part"

    def publish(self, tmp: Path, object_id: str) -> str:
        """Move a complete, fsynced tmp file to its final name; returns the stored relative path."""
        rel = f"files/{object_id}"
        os.replace(tmp, self.root / rel)
        if self.durable:
            _fsync_dir(self.files_dir)
        return rel

    def write(self, object_id: str, data: bytes) -> str:
        tmp = self.new_tmp()
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            self.sync(f.fileno())
        return self.publish(tmp, object_id)

    def sync(self, fd: int) -> None:
        """fsync, unless this store holds throwaway state (`durable=False`)."""
        if self.durable:
            os.fsync(fd)

    def path(self, rel: str) -> Path:
        return self.root / rel

    def remove(self, rel: str) -> None:
        (self.root / rel).unlink(missing_ok=True)

    def remove_after_commit(self, session: Session, paths: list[str]) -> None:
        """Delete these stored files once `session` commits (never before: a rolled-back deletion keeps
        its bytes). A file that cannot be removed now (read-only disk) stays for the startup sweep, which
        removes every file no live row points at; the request still succeeds."""
        if not paths:
            return

        def remove_all(_: Session) -> None:
            for rel in paths:
                try:
                    self.remove(rel)
                except OSError as e:
                    log.warning("could not remove %s now (the next sweep will): %s", rel, e)
        event.listen(session, "after_commit", remove_all, once=True)

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


def _identity(path: Path) -> tuple[int, int]:
    st = os.stat(path)
    return st.st_dev, st.st_ino


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


class DataDirGuard:
    """ASGI middleware: every request that may write (not GET/HEAD/OPTIONS) first checks that the data dir
    is still the one the server started with; a deleted or replaced one is a retryable 500, never a 200
    for a write that the next restart would not find."""

    def __init__(self, app, *, store: FileStore) -> None:
        self.app = app
        self.store = store

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http" and scope["method"] not in ("GET", "HEAD", "OPTIONS"):
            try:
                self.store.check_alive()
            except errors.APIError as e:
                from mockserver.http import JSONResponse

                await JSONResponse(e.body(), status_code=e.status)(scope, receive, send)
                return
        await self.app(scope, receive, send)
