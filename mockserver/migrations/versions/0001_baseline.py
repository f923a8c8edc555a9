"""Baseline: the schema of every database created before migrations existed (main as of 2026-11-30).

Every table and index is created only if missing, so a database created by an emulator from before
Alembic upgrades in place (its tables are adopted as they are, nothing is rewritten or lost), and one that
predates a table (e.g. created before the Responses or Batch APIs) gains it here.

Written as data: each table's columns in order (`name type`, `?` = nullable; the first column is the
primary key), then its indexes (`ix_<table>_<column>`, `!` = unique). tests/unit/test_migrations.py pins
the schema this builds.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TABLES: dict[str, tuple[str, ...]] = {
    'batches': (
        'seq int', 'id str(64)', 'tenant str(128)', 'organization_id str', 'endpoint str', 'model str?',
        'input_file_id str', 'completion_window str', 'status str', 'output_file_id str?', 'error_file_id str?',
        'errors json?', 'metadata json?', 'created_at int', 'in_progress_at int?', 'expires_at int',
        'finalizing_at int?', 'completed_at int?', 'failed_at int?', 'expired_at int?', 'cancelling_at int?',
        'cancelled_at int?', 'total int', 'completed int', 'failed int', 'usage json?', 'output_expires int?',
        'version int', 'stage_started float', 'lines_done int', 'input_offset int', 'out_path str?',
        'err_path str?',
    ),
    'checkpoints': (
        'seq int', 'id str(64)', 'job_id str(64)', 'created_at int', 'step_number int', 'metrics json?',
        'fine_tuned_model_checkpoint str',
    ),
    'events': (
        'seq int', 'id str(64)', 'job_id str(64)', 'job_seq int', 'created_at int', 'level str', 'message str',
        'type str', 'data json?',
    ),
    'files': (
        'seq int', 'id str(64)', 'tenant str(128)', 'filename str', 'purpose str(32)', 'bytes bigint',
        'created_at int', 'expires_at int?', 'status str', 'status_details str?', 'path str', 'deleted bool',
    ),
    'fixtures': (
        'seq int', 'id str(64)', 'tenant str(128)?', 'model str?', 'pattern str?', 'reply json?',
    ),
    'jobs': (
        'seq int', 'id str(64)', 'tenant str(128)', 'organization_id str', 'org_name str', 'model str',
        'status str', 'training_file str', 'validation_file str?', 'hyperparameters json?', 'method json?',
        'suffix str?', 'user_provided_suffix str?', 'seed int', 'metadata json?', 'integrations json?',
        'created_at int', 'finished_at int?', 'fine_tuned_model str?', 'trained_tokens int?', 'result_files json?',
        'error json?', 'estimated_finish int?', 'version int', 'stage_started float', 'steps_done int',
        'steps_base int', 'total_steps int?', 'n_examples int?', 'billing_tokens int?', 'plan json?',
        'event_count int', 'model_token str', 'forced json?', 'warnings json?',
    ),
    'meta': (
        'key str(64)', 'value json?',
    ),
    'models': (
        'seq int', 'id str(256)', 'tenant str(128)', 'created int', 'owned_by str', 'base_model str', 'job_id str',
        'kind str', 'step int?', 'training_file str?', 'deleted bool',
    ),
    'responses': (
        'seq int', 'id str(64)', 'tenant str(128)', 'created_at int', 'status str', 'background bool',
        'ready_at float', 'previous_response_id str?', 'body json?', 'input_items json?', 'deleted bool',
        'version int',
    ),
    'upload_parts': (
        'seq int', 'id str(64)', 'upload_id str(64)', 'created_at int', 'bytes bigint', 'path str',
    ),
    'uploads': (
        'seq int', 'id str(64)', 'tenant str(128)', 'filename str', 'purpose str', 'bytes bigint', 'mime_type str',
        'created_at int', 'expires_at int', 'status str', 'file_id str?',
    ),
}
INDEXES: dict[str, tuple[str, ...]] = {
    'batches': ('id!', 'status', 'tenant'),
    'checkpoints': ('id!', 'job_id'),
    'events': ('id!', 'job_id'),
    'files': ('deleted', 'id!', 'tenant'),
    'fixtures': ('tenant',),
    'jobs': ('id!', 'status', 'tenant'),
    'models': ('deleted', 'id!', 'tenant'),
    'responses': ('deleted', 'id!', 'tenant'),
    'upload_parts': ('id!', 'upload_id'),
    'uploads': ('id!', 'tenant'),
}
UNIQUE: dict[str, tuple[tuple[str, ...], ...]] = {
    'events': (('job_id', 'job_seq'),),
    'fixtures': (('id',),),
}
_TYPES = {"int": sa.Integer, "bigint": sa.BigInteger, "float": sa.Float, "bool": sa.Boolean, "json": sa.JSON,
          "str": sa.String}


def _column(spec: str) -> sa.Column:
    name, kind = spec.split()
    nullable = kind.endswith("?")
    kind = kind.rstrip("?")
    if kind.startswith("str("):
        return sa.Column(name, sa.String(length=int(kind[4:-1])), nullable=nullable)
    return sa.Column(name, _TYPES[kind](), nullable=nullable)


def upgrade() -> None:
    for table, columns in TABLES.items():
        op.create_table(table, *map(_column, columns), sa.PrimaryKeyConstraint(columns[0].split()[0]),
                        *(sa.UniqueConstraint(*names) for names in UNIQUE.get(table, ())), if_not_exists=True)
        for index in INDEXES.get(table, ()):
            column = index.rstrip("!")
            op.create_index(op.f(f"ix_{table}_{column}"), table, [column], unique=index.endswith("!"),
                            if_not_exists=True)


def downgrade() -> None:
    """The baseline is the schema's starting point: there is nothing below it to go back to."""
    raise RuntimeError("0001_baseline cannot be downgraded: it is the first revision (drop the database instead)")
