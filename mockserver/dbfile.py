"""Where a database URL's SQLite file is: the one name every file kept beside the database is derived from."""

from __future__ import annotations

import os

__all__ = ["sqlite_file", "DATABASE_FILE"]

DATABASE_FILE = "database_file"   # the key of `Database.file` in the info of the sessions `Database.session` opens


def sqlite_file(url: str) -> str | None:
    """The SQLite file of a database URL with symlinks resolved, so that every path reaching one database
    names the same files beside it (the cache stamp `<file>.generation`, the lock files `<file>.locks`,
    `<file>.migrate.lock`, `<file>.blobs-alive`); None for PostgreSQL and in-memory SQLite."""
    if not url.startswith("sqlite:///"):
        return None
    path = url.removeprefix("sqlite:///")
    return os.path.realpath(path) if path and not path.startswith(":memory:") else None
