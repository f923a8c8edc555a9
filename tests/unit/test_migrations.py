"""Alembic migrations: a database from before migrations upgrades in place with nothing lost; the migrations
and the models (mockserver/tables.py) describe the same schema; a newer database is refused."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, text
from sqlmodel import SQLModel

from mockserver import migrations
from mockserver.db import Database, SchemaError
from mockserver.tables import SCHEMA_VERSION

OLD_SCHEMA = Path(__file__).parent / "data" / "schema_before_migrations.sql"


def _old_database(path: Path) -> None:
    con = sqlite3.connect(path)
    con.executescript(OLD_SCHEMA.read_text(encoding="utf-8"))
    con.executescript("""
        INSERT INTO files (id, tenant, filename, purpose, bytes, created_at, status, path, deleted)
            VALUES ('file-old', 't1', 'train.jsonl', 'fine-tune', 12, 1700000000, 'processed', 'files/file-old', 0);
        INSERT INTO models (id, tenant, created, owned_by, base_model, job_id, kind, deleted)
            VALUES ('ft:gpt-4o-mini-2024-07-18:personal::abcdefgh', 't1', 1700000100, 'user-x',
                    'gpt-4o-mini-2024-07-18', 'ftjob-old', 'fine_tuned', 0);
        INSERT INTO meta (key, value) VALUES ('clock', '{"offset": 5}');
    """)
    con.commit()
    con.close()


def _schema_diff(url: str) -> list:
    engine = create_engine(url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
    engine.dispose()
    return diff


def test_a_database_from_before_migrations_upgrades_in_place(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    _old_database(path)
    db = Database(f"sqlite:///{path}")
    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == migrations.head()
        assert conn.execute(text("SELECT id, filename, bytes FROM files")).all() == [("file-old", "train.jsonl", 12)]
        assert conn.execute(text("SELECT id FROM models")).scalar().endswith(":abcdefgh")
        meta = dict(conn.execute(text("SELECT key, value FROM meta")).all())
        assert conn.execute(text("SELECT value FROM cache_generation WHERE id = 1")).scalar() == 0
    assert meta["clock"] == '{"offset": 5}' and int(meta["schema_version"]) == SCHEMA_VERSION
    db.dispose()
    assert _schema_diff(f"sqlite:///{path}") == []
    Database(f"sqlite:///{path}").dispose()  # a second start finds nothing to do


def test_a_new_database_matches_the_migrations(tmp_path: Path) -> None:
    """create_all + stamp (the fast path for new databases) and the migrations build the same schema."""
    fresh, migrated = tmp_path / "fresh.db", tmp_path / "migrated.db"
    Database(f"sqlite:///{fresh}").dispose()
    sqlite3.connect(migrated).close()
    engine = create_engine(f"sqlite:///{migrated}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE placeholder (x INTEGER)"))  # not empty: the migrations run
        migrations.upgrade(conn, SQLModel.metadata)
        conn.execute(text("DROP TABLE placeholder"))
    engine.dispose()
    assert _schema_diff(f"sqlite:///{fresh}") == []
    assert _schema_diff(f"sqlite:///{migrated}") == []


def test_a_database_from_a_newer_emulator_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "new.db"
    Database(f"sqlite:///{path}").dispose()
    con = sqlite3.connect(path)
    con.execute("UPDATE alembic_version SET version_num = '9999'")
    con.commit()
    con.close()
    with pytest.raises(SchemaError, match="9999"):
        Database(f"sqlite:///{path}")


@pytest.mark.postgres
def test_a_postgres_database_from_before_migrations_upgrades_in_place() -> None:
    """On PostgreSQL: the tables as an emulator before migrations made them (the models without the
    cache generation, no alembic_version), one file row; upgrading keeps the row and adds the rest."""
    import os

    from tests.reliability._server import PG_VAR, fresh_pg_database

    url = os.environ.get(PG_VAR)
    if not url:
        pytest.skip(f"{PG_VAR} is not set")
    with fresh_pg_database(url) as scratch:
        engine = create_engine(scratch)
        old = [t for name, t in SQLModel.metadata.tables.items() if name != "cache_generation"]
        with engine.begin() as conn:
            SQLModel.metadata.create_all(conn, tables=old)
            conn.execute(text("INSERT INTO files (id, tenant, filename, purpose, bytes, created_at, status, path, "
                              "deleted) VALUES ('file-old', 't1', 'a.jsonl', 'fine-tune', 3, 1, 'processed', "
                              "'files/file-old', false)"))
            conn.execute(text("INSERT INTO meta (key, value) VALUES ('schema_version', '1')"))
        engine.dispose()
        db = Database(scratch)
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == migrations.head()
            assert conn.execute(text("SELECT id FROM files")).all() == [("file-old",)]
        db.dispose()
        assert _schema_diff(scratch) == []
