"""Derived history: a job's events and checkpoints move from their tables into the job row's `log`
(mockserver/jobs/history.py), their stored ids kept; the two tables go.

Revision ID: 0004
Revises: 0003
"""

import orjson
import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def _loaded(value: object) -> object:
    return orjson.loads(value) if isinstance(value, str | bytes) else value


def upgrade() -> None:
    """Idempotent: a database from before migrations may already have been built from the newer models."""
    conn = op.get_bind()
    inspector = sa.inspect(conn)
    if "log" not in {c["name"] for c in inspector.get_columns("jobs")}:
        op.add_column("jobs", sa.Column("log", sa.JSON(), nullable=True))
    tables = set(inspector.get_table_names())
    logs: dict[str, list] = {}
    if "events" in tables:
        for job_id, at, level, message, kind, data, eid in conn.execute(sa.text(
                "SELECT job_id, created_at, level, message, type, data, id FROM events ORDER BY job_id, job_seq")):
            logs.setdefault(job_id, []).append(["e", at, message, level, kind, _loaded(data), eid])
    if "checkpoints" in tables:
        for job_id, at, step, metrics, name, cid in conn.execute(sa.text(
                "SELECT job_id, created_at, step_number, metrics, fine_tuned_model_checkpoint, id FROM checkpoints "
                "ORDER BY job_id, seq")):
            logs.setdefault(job_id, []).append(["c", at, step, _loaded(metrics), name, cid])
    jobs = sa.table("jobs", sa.column("id", sa.String()), sa.column("log", sa.JSON()))
    for job_id, log in logs.items():
        conn.execute(jobs.update().where(jobs.c.id == job_id).values(log=log))
    for table in ("events", "checkpoints"):
        if table in tables:
            op.drop_table(table)


def downgrade() -> None:
    """One-way: from this revision on, events and checkpoints are computed from each job's log by the
    simulator on read, so there are no rows to give back to an older emulator's `events`/`checkpoints`."""
    raise RuntimeError("0004_derived_history cannot be downgraded: events and checkpoints are derived from "
                       "jobs.log since it; keep a copy of the database from before the upgrade to go back")
