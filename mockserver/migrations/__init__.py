"""Alembic migrations of the emulator's database (run by mockserver.db.Database at start-up).

Adding one: change mockserver/tables.py, then add `versions/NNNN_what.py` with `revision = "NNNN"` and
`down_revision` = the previous one's (see README "Database migrations"); tests/unit/test_migrations.py
checks that the migrations and the tables agree.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import MetaData, inspect, text
from sqlalchemy.engine import Connection

if TYPE_CHECKING:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

__all__ = ["upgrade", "head", "newest_file_revision", "config", "SchemaError"]

_VERSIONS = Path(__file__).parent / "versions"


class SchemaError(RuntimeError):
    """The database was written by a newer emulator than this one."""


def config(connection: Connection | None = None) -> Config:
    """An Alembic config for these migrations, working on `connection` (no alembic.ini, no URL)."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", "mockserver:migrations")
    cfg.attributes["connection"] = connection
    return cfg


@cache
def _scripts() -> ScriptDirectory:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(config())


def head() -> str:
    return _scripts().get_current_head()


@cache
def newest_file_revision() -> str:
    """The head revision read from the file names (`versions/NNNN_what.py` holds revision "NNNN"), without
    importing Alembic (~0.1 s): a start-up on an up-to-date database never needs it.
    tests/unit/test_migrations.py checks that it is Alembic's head."""
    return max(p.name.split("_", 1)[0] for p in _VERSIONS.glob("[0-9]*_*.py"))


def _stored_revision(conn: Connection) -> str | None:
    """The database's revision, or None when it has no alembic_version table (new, or from before migrations)."""
    if not inspect(conn).has_table("alembic_version"):
        return None
    return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def _known(revision: str) -> bool:
    from alembic.util import CommandError

    try:
        return _scripts().get_revision(revision) is not None
    except CommandError:
        return False


def upgrade(conn: Connection, metadata: MetaData) -> None:
    """Migrate the database on `conn` (inside the caller's transaction) to the newest revision (Alembic is
    imported only when there is something to do)."""
    if _stored_revision(conn) == newest_file_revision():
        return
    from alembic import command
    from alembic.runtime.migration import MigrationContext

    context = MigrationContext.configure(conn)
    current = context.get_current_revision()
    if current is None and not inspect(conn).get_table_names():  # a new database: build it from the models
        metadata.create_all(conn)
        conn.execute(metadata.tables["cache_generation"].insert().values(id=1, value=0))
        context.stamp(_scripts(), "head")
        return
    if current is not None and not _known(current):
        raise SchemaError(f"database schema revision {current} is newer than this emulator's {head()}")
    if current != head():
        command.upgrade(config(conn), "head")
