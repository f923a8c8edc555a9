"""File bytes on disk under the data dir: written to tmp/, fsynced, then renamed into files/."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

__all__ = ["FileStore"]


class FileStore:
    """Content-addressed by object id; a crash before the rename leaves only a tmp file, swept at start."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.tmp_dir = self.root / "tmp"
        self.files_dir = self.root / "files"
        self.tmp_dir.mkdir(parents=True, exist_ok=True)
        self.files_dir.mkdir(parents=True, exist_ok=True)

    def new_tmp(self) -> Path:
        return self.tmp_dir / f"{os.getpid()}-{secrets.token_hex(8)}.part"

    def publish(self, tmp: Path, object_id: str) -> str:
        """Move a complete, fsynced tmp file to its final name; returns the stored relative path."""
        rel = f"files/{object_id}"
        os.replace(tmp, self.root / rel)
        _fsync_dir(self.files_dir)
        return rel

    def write(self, object_id: str, data: bytes) -> str:
        tmp = self.new_tmp()
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        return self.publish(tmp, object_id)

    def path(self, rel: str) -> Path:
        return self.root / rel

    def remove(self, rel: str) -> None:
        try:
            (self.root / rel).unlink()
        except FileNotFoundError:
            pass

    def sweep(self, known: set[str], *, tmp_older_than: float = 3600.0) -> int:
        """Remove stale tmp files and stored files no row points at; returns how many were removed."""
        import time

        removed = 0
        cutoff = time.time() - tmp_older_than
        for p in self.tmp_dir.iterdir():
            if p.stat().st_mtime < cutoff or p.name.startswith(f"{os.getpid()}-"):
                p.unlink(missing_ok=True)
                removed += 1
        for p in self.files_dir.iterdir():
            if f"files/{p.name}" not in known and p.stat().st_mtime < cutoff:
                p.unlink(missing_ok=True)
                removed += 1
        return removed


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
