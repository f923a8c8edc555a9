"""The PostgreSQL blob store's tables (mockserver/files/blobs_pg.py): `blobs` (one row per stored blob,
by key) and `blob_chunks` (up to 1 MiB of it per row, deleted with its blob). Empty and unused with the
data-dir store; created on every backend so the schema is one (if missing: a database made from the
models before this revision already has them).

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "blobs",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key"),
        if_not_exists=True,
    )
    op.create_table(
        "blob_chunks",
        sa.Column("blob_id", sa.BigInteger(), nullable=False),
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["blob_id"], ["blobs.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("blob_id", "seq"),
        if_not_exists=True,
    )


def downgrade() -> None:
    op.drop_table("blob_chunks")
    op.drop_table("blobs")
