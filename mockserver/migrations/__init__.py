"""Alembic migrations of the emulator's database (run by mockserver.db.Database at start-up).

Adding one: change mockserver/tables.py, then add `versions/NNNN_what.py` with `revision = "NNNN"` and
`down_revision` = the previous one's (see README "Database migrations"); tests/unit/test_migrations.py
checks that the migrations and the tables agree.
"""

from __future__ import annotations

from functools import cache

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import MetaData, inspect
from sqlalchemy.engine import Connection

__all__ = ["upgrade", "head", "config", "SchemaError"]


class SchemaError(RuntimeError):
    """The database was written by a newer emulator than this one."""


def config(connection: Connection | None = None) -> Config:
    """An Alembic config for these migrations, working on `connection` (no alembic.ini, no URL)."""
    cfg = Config()
    cfg.set_main_option("script_location", "mockserver:migrations")
    cfg.attributes["connection"] = connection
    return cfg


@cache
def _scripts() -> ScriptDirectory:
    return ScriptDirectory.from_config(config())


def head() -> str:
    return _scripts().get_current_head()


def _known(revision: str) -> bool:
    try:
        return _scripts().get_revision(revision) is not None
    except CommandError:
        return False


def upgrade(conn: Connection, metadata: MetaData) -> None:
    """Migrate the database on `conn` (inside the caller's transaction) to the newest revision."""
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
