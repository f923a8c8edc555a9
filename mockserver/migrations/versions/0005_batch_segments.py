"""Batches keep their answers as blobs, one pair (output, errors) per committed step, in `segments`,
instead of appending to partial files in the data dir: any blob store (PostgreSQL, S3) can hold them.
Batches already running keep their partial files (`out_path`, `err_path`), read as the first pair.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # a database made from the models before this revision already has the column
    if "segments" not in {c["name"] for c in sa.inspect(op.get_bind()).get_columns("batches")}:
        op.add_column("batches", sa.Column("segments", sa.JSON(), nullable=True))


def downgrade() -> None:
    op.drop_column("batches", "segments")
