"""SQLModel tables: the emulator's whole state. `seq` orders every list and anchors every cursor.

A job's events and checkpoints have no table: they are derived from the job row's `log` (mockserver.history).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    func,
)
from sqlmodel import Field, SQLModel

__all__ = ["SCHEMA_VERSION", "Meta", "CacheGeneration", "FileRow", "UploadRow", "UploadPartRow", "JobRow",
           "ModelRow", "FixtureRow", "ResponseRow", "BatchRow", "BlobRow", "BlobChunkRow"]

# Emulators from before Alembic refuse a database whose schema_version is above theirs (1): a migrated
# database says 2 so that they do not write to a schema they do not know. Migrations: mockserver/migrations.
SCHEMA_VERSION = 2


def _json(nullable: bool = True, name: str | None = None) -> Any:
    """A JSON column (`name`: the column's name when the attribute's differs, as `metadata_`)."""
    column = Column(name, JSON, nullable=nullable) if name else Column(JSON, nullable=nullable)
    return Field(default=None, sa_column=column)


def _bigint() -> Any:
    return Field(sa_column=Column(BigInteger, nullable=False))


class _Listed(SQLModel):
    """What every listed object has: `seq` (list order, cursors) and its API id."""

    seq: int | None = Field(default=None, primary_key=True)
    id: str = Field(unique=True, index=True, max_length=64)


class _Owned(_Listed):
    """A tenant's object: `tenant` is what mockserver.owned filters on."""

    tenant: str = Field(index=True, max_length=128)


class Meta(SQLModel, table=True):
    """Key → JSON value: schema version, shared clock and transition policy, seed."""

    key: str = Field(primary_key=True, max_length=64)
    value: Any = _json()


class CacheGeneration(SQLModel, table=True):
    """One row (id 1): incremented by every write that changes a cached fact (see mockserver.cache)."""

    __tablename__ = "cache_generation"
    id: int = Field(default=1, primary_key=True)
    value: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))


class FileRow(_Owned, table=True):
    __tablename__ = "files"
    filename: str
    purpose: str = Field(max_length=32)
    bytes: int = _bigint()
    created_at: int
    expires_at: int | None = None
    status: str = "processed"
    status_details: str | None = None
    path: str
    deleted: bool = Field(default=False, index=True)


class UploadRow(_Owned, table=True):
    __tablename__ = "uploads"
    filename: str
    purpose: str
    bytes: int = _bigint()
    mime_type: str
    created_at: int
    expires_at: int
    status: str = "pending"
    file_id: str | None = None


class UploadPartRow(_Listed, table=True):
    __tablename__ = "upload_parts"
    upload_id: str = Field(index=True, max_length=64)
    created_at: int
    bytes: int = _bigint()
    path: str


class JobRow(_Owned, table=True):
    __tablename__ = "jobs"
    organization_id: str
    org_name: str
    model: str
    status: str = Field(index=True)
    training_file: str
    validation_file: str | None = None
    hyperparameters: Any = _json()
    method: Any = _json()
    suffix: str | None = None
    user_provided_suffix: str | None = None
    seed: int
    metadata_: Any = _json(name="metadata")
    integrations: Any = _json()
    created_at: int
    finished_at: int | None = None
    fine_tuned_model: str | None = None
    trained_tokens: int | None = None
    result_files: Any = _json()
    error: Any = _json()
    estimated_finish: int | None = None
    # Simulation state (never on the wire).
    version: int = 0
    stage_started: float = 0.0          # virtual time the current status began
    steps_done: int = 0
    steps_base: int = 0                 # steps_done when the current running stage began
    total_steps: int | None = None
    n_examples: int | None = None
    billing_tokens: int | None = None
    plan: Any = _json()                 # resolved sizes and hyperparameters (simulator.Plan)
    event_count: int = 0               # events in the derived history
    log: Any = _json()                  # what the history derives from (mockserver.history)
    model_token: str                    # the 8 characters of the fine-tuned model name, drawn at creation
    forced: Any = _json()               # {"stage", "code", "message"} set by the control plane
    warnings: Any = _json()


class ModelRow(_Owned, table=True):
    __tablename__ = "models"
    id: str = Field(unique=True, index=True, max_length=256)   # a model name is longer than an object id
    created: int
    owned_by: str
    base_model: str
    job_id: str
    kind: str = "fine_tuned"            # "fine_tuned" | "checkpoint"
    step: int | None = None
    training_file: str | None = None    # storage path of the training-data snapshot the model answers from
    deleted: bool = Field(default=False, index=True)


class FixtureRow(SQLModel, table=True):
    __tablename__ = "fixtures"
    seq: int | None = Field(default=None, primary_key=True)
    id: str = Field(unique=True, max_length=64)
    tenant: str | None = Field(default=None, index=True, max_length=128)
    model: str | None = None
    pattern: str | None = None
    reply: Any = _json()


class ResponseRow(_Owned, table=True):
    """A stored Responses API response (`store: true`); `body` is the wire object, `input_items` its input."""

    __tablename__ = "responses"
    created_at: int
    status: str
    background: bool = False
    ready_at: float = 0.0               # virtual time a background response finishes
    previous_response_id: str | None = None
    body: Any = _json()
    input_items: Any = _json()
    deleted: bool = Field(default=False, index=True)
    version: int = 0


class BatchRow(_Owned, table=True):
    """A Batch API batch; progress (`lines_done`, `input_offset`) lets reads resume it where it stood."""

    __tablename__ = "batches"
    organization_id: str = ""
    endpoint: str
    model: str | None = None
    input_file_id: str
    completion_window: str
    status: str = Field(index=True)
    output_file_id: str | None = None
    error_file_id: str | None = None
    errors: Any = _json()
    metadata_: Any = _json(name="metadata")
    created_at: int
    in_progress_at: int | None = None
    expires_at: int
    finalizing_at: int | None = None
    completed_at: int | None = None
    failed_at: int | None = None
    expired_at: int | None = None
    cancelling_at: int | None = None
    cancelled_at: int | None = None
    total: int = 0
    completed: int = 0
    failed: int = 0
    usage: Any = _json()
    output_expires: int | None = None  # output_expires_after.seconds: the result files' lifetime
    # Simulation state (never on the wire).
    version: int = 0
    stage_started: float = 0.0         # virtual time the current status began
    lines_done: int = 0                # input lines answered so far
    input_offset: int = 0              # byte offset of the next input line
    # Answers so far: one [output key | None, error key | None] pair of blobs per committed step (in
    # order), joined into the output and error files when the batch ends. Batches from before revision
    # 0005 appended to one partial file each, named by out_path / err_path (read as the first pair).
    segments: Any = _json()
    out_path: str | None = None
    err_path: str | None = None


class BlobRow(SQLModel, table=True):
    """A stored blob of the PostgreSQL blob store (mockserver.files.blobs_pg); unused with the data-dir store."""

    __tablename__ = "blobs"
    id: int | None = Field(default=None, sa_column=Column(BigInteger, primary_key=True, autoincrement=True))
    key: str = Field(unique=True, max_length=128)
    size: int = _bigint()
    created_at: Any = Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=False,
                                                           server_default=func.now()))


class BlobChunkRow(SQLModel, table=True):
    """Up to 1 MiB of a blob; `seq` counts from 0. Deleting the blob deletes its chunks."""

    __tablename__ = "blob_chunks"
    blob_id: int = Field(sa_column=Column(BigInteger, ForeignKey("blobs.id", ondelete="CASCADE"),
                                          primary_key=True))
    seq: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    data: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
