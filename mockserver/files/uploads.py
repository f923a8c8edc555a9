"""Uploads API: pending → completed | cancelled | expired; parts assembled in the order given at completion.

Parts never outlive their upload: a part that would take the upload past its declared `bytes` is refused,
and completing, cancelling or expiring an upload deletes its part rows and (once that commits) their
bytes; `expire_due` expires every overdue upload (at startup, and whenever an upload is created).
"""

from __future__ import annotations

from sqlmodel import Session, select

from contracts import errors
from contracts.limits import UPLOAD_TTL_SECONDS
from mockserver.files.blobs import BlobWriter
from mockserver.files.request import CompleteBody, UploadBody
from mockserver.files.store import create_file, file_to_wire
from mockserver.owned import find
from mockserver.services import Services
from mockserver.tables import FileRow, UploadPartRow, UploadRow

__all__ = ["upload_to_wire", "part_to_wire", "create_upload", "get_upload", "require_pending", "add_part",
           "complete_upload", "cancel_upload", "expire_due"]


def upload_to_wire(row: UploadRow, file: FileRow | None = None) -> dict:
    return {"id": row.id, "object": "upload", "bytes": row.bytes, "created_at": row.created_at,
            "expires_at": row.expires_at, "filename": row.filename, "purpose": row.purpose,
            "status": row.status, "file": file_to_wire(file) if file is not None else None}


def part_to_wire(row: UploadPartRow) -> dict:
    return {"id": row.id, "object": "upload.part", "created_at": row.created_at, "upload_id": row.upload_id}


def create_upload(s: Session, svc: Services, *, tenant: str, req: UploadBody) -> UploadRow:
    expire_due(s, svc)
    now = svc.now(s)
    row = UploadRow(id=svc.ids.new("upload"), tenant=tenant, filename=req.filename, purpose=req.purpose,
                    bytes=req.bytes, mime_type=req.mime_type, created_at=now, expires_at=now + UPLOAD_TTL_SECONDS)
    s.add(row)
    return row


def get_upload(s: Session, svc: Services, *, tenant: str, upload_id: str) -> UploadRow:
    row = find(s, UploadRow, tenant, upload_id)
    if row is None:
        raise errors.no_such_object("Upload", upload_id, "upload_id")
    if row.status == "pending" and svc.now(s) >= row.expires_at:
        row.status = "expired"
        s.add(row)
        _drop_parts(s, svc, row.id)
    return row


def _drop_parts(s: Session, svc: Services, upload_id: str) -> None:
    parts = list(s.exec(select(UploadPartRow).where(UploadPartRow.upload_id == upload_id)))
    for part in parts:
        s.delete(part)
    svc.files.remove_after_commit(s, [p.path for p in parts])


def expire_due(s: Session, svc: Services) -> int:
    """Expire every pending upload past its expiry (and drop its parts); returns how many."""
    now = svc.now(s)
    due = list(s.exec(select(UploadRow).where(UploadRow.status == "pending", UploadRow.expires_at <= now)))
    for row in due:
        row.status = "expired"
        s.add(row)
        _drop_parts(s, svc, row.id)
    return len(due)


def require_pending(row: UploadRow) -> None:
    """400 `invalid_upload_state` unless the upload still takes parts."""
    if row.status != "pending":
        raise errors.BadRequest(f"Upload {row.id} is already {row.status}; no further changes are allowed.",
                                param="upload_id", code="invalid_upload_state")


def add_part(s: Session, svc: Services, *, tenant: str, upload_id: str, blob: BlobWriter,
             size: int) -> UploadPartRow:
    row = get_upload(s, svc, tenant=tenant, upload_id=upload_id)
    require_pending(row)
    taken = sum(s.exec(select(UploadPartRow.bytes).where(UploadPartRow.upload_id == row.id)))
    if taken + size > row.bytes:
        raise errors.invalid_value("data", f"This part would take upload {row.id} to {taken + size} bytes, past "
                                           f"the {row.bytes} bytes it was created with.")
    part_id = svc.ids.new("part")
    path = blob.publish(part_id)
    part = UploadPartRow(id=part_id, upload_id=row.id, created_at=svc.now(s), bytes=size, path=path)
    s.add(part)
    return part


def complete_upload(s: Session, svc: Services, *, tenant: str, upload_id: str,
                    req: CompleteBody) -> tuple[UploadRow, FileRow]:
    part_ids = req.part_ids
    row = get_upload(s, svc, tenant=tenant, upload_id=upload_id)
    require_pending(row)
    parts = {p.id: p for p in s.exec(select(UploadPartRow).where(UploadPartRow.upload_id == row.id))}
    missing = [p for p in part_ids if p not in parts]
    if missing:
        raise errors.invalid_value("part_ids", f"Part {missing[0]} does not belong to upload {row.id}.")
    total = sum(parts[p].bytes for p in part_ids)
    if total != row.bytes:
        raise errors.invalid_value("part_ids", f"The parts add up to {total} bytes, but the upload was created "
                                               f"with bytes={row.bytes}.")
    blob = svc.files.writer()
    try:
        digest = svc.files.concatenate([parts[p].path for p in part_ids], blob)
        if req.md5 is not None and req.md5 != digest:
            raise errors.invalid_value("md5", f"The md5 checksum {req.md5} does not match the uploaded bytes "
                                              f"({digest}).")
        file = create_file(s, svc, tenant=tenant, blob=blob, filename=row.filename, purpose=row.purpose,
                           size=total)
    finally:
        blob.discard()  # a no-op once published
    row.status, row.file_id = "completed", file.id
    s.add(row)
    _drop_parts(s, svc, row.id)
    return row, file


def cancel_upload(s: Session, svc: Services, *, tenant: str, upload_id: str) -> UploadRow:
    row = get_upload(s, svc, tenant=tenant, upload_id=upload_id)
    require_pending(row)
    row.status = "cancelled"
    s.add(row)
    _drop_parts(s, svc, row.id)
    return row


