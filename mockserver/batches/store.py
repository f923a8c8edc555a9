"""Batch rows: create, read, list, the wire shape, compare-and-set updates, publishing the result files."""

from __future__ import annotations

from typing import Any

from sqlalchemy import update
from sqlmodel import Session

from contracts import errors
from mockserver.owned import find, scope
from mockserver.pagination import Page, paginate
from mockserver.services import Services
from mockserver.tables import BatchRow, FileRow

__all__ = ["batch_to_wire", "create", "get", "list_batches", "cas", "result_file", "no_such_batch", "TERMINAL"]

TERMINAL = ("completed", "failed", "expired", "cancelled")


def no_such_batch(batch_id: str) -> errors.NotFound:
    return errors.no_such_object("Batch", batch_id, "batch_id")


def batch_to_wire(row: BatchRow) -> dict:
    out: dict[str, Any] = {
        "id": row.id, "object": "batch", "endpoint": row.endpoint,
        "errors": {"object": "list", "data": row.errors} if row.errors else None,
        "input_file_id": row.input_file_id, "completion_window": row.completion_window, "status": row.status,
        "output_file_id": row.output_file_id, "error_file_id": row.error_file_id, "created_at": row.created_at,
        "in_progress_at": row.in_progress_at, "expires_at": row.expires_at, "finalizing_at": row.finalizing_at,
        "completed_at": row.completed_at, "failed_at": row.failed_at, "expired_at": row.expired_at,
        "cancelling_at": row.cancelling_at, "cancelled_at": row.cancelled_at,
        "request_counts": {"total": row.total, "completed": row.completed, "failed": row.failed},
        "usage": row.usage or _zero_usage(), "metadata": row.metadata_,
    }
    if row.model is not None:
        out["model"] = row.model
    return out


def _zero_usage() -> dict:
    return {"input_tokens": 0, "input_tokens_details": {"cached_tokens": 0}, "output_tokens": 0,
            "output_tokens_details": {"reasoning_tokens": 0}, "total_tokens": 0}


def add_usage(total: dict | None, input_tokens: int, output_tokens: int) -> dict:
    u = dict(total or _zero_usage())
    u["input_tokens"] += input_tokens
    u["output_tokens"] += output_tokens
    u["total_tokens"] = u["input_tokens"] + u["output_tokens"]
    return u


def create(s: Session, svc: Services, *, tenant: str, organization_id: str, body: dict, now: float,
           window_seconds: int) -> BatchRow:
    row = BatchRow(id=svc.ids.new("batch"), tenant=tenant, organization_id=organization_id, endpoint=body["endpoint"],
                   input_file_id=body["input_file_id"], completion_window=body["completion_window"],
                   status="validating", metadata_=body.get("metadata"), created_at=int(now),
                   expires_at=int(now) + window_seconds, stage_started=now, segments=[],
                   output_expires=(body.get("output_expires_after") or {}).get("seconds"))
    s.add(row)
    return row


def get(s: Session, *, tenant: str, batch_id: str) -> BatchRow:
    row = find(s, BatchRow, tenant, batch_id)
    if row is None:
        raise no_such_batch(batch_id)
    return row


def list_batches(s: Session, *, tenant: str, limit: int, after: str | None) -> Page:
    mine = scope(BatchRow, tenant)
    return paginate(s, BatchRow, where=mine, cursor_scope=mine, limit=limit, after=after)


def cas(s: Session, row: BatchRow, **changes: Any) -> bool:
    """Apply `changes` if nobody changed the row since it was read (any process); False otherwise."""
    if "metadata_" in changes:
        raise ValueError("metadata is never changed by the simulation")
    done = s.execute(update(BatchRow).where(BatchRow.id == row.id, BatchRow.version == row.version)
                     .values(**changes, version=row.version + 1))
    return done.rowcount == 1


def result_file(row: BatchRow, *, file_id: str, key: str, size: int, kind: str, at: int) -> FileRow:
    """The File row of a finished output/error file (purpose `batch_output`)."""
    expires = at + row.output_expires if row.output_expires else None
    return FileRow(id=file_id, tenant=row.tenant, filename=f"{row.id}_{kind}.jsonl", purpose="batch_output",
                   bytes=size, created_at=at, expires_at=expires, path=key)
