"""Files: create from an uploaded blob, get, list, delete (tombstoned), content.

A *derived* file (a job's results file) has a row like any other but no bytes in the blob store: its `path` is
`derived:<kind>:<key>` and its content is computed on download (`content`), byte-identical to what
was once written. Its size is computed the first time the row is read and then kept (`bytes` is -1
until then), so finishing a job never computes the content.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy import Connection, event, update
from sqlmodel import Session, select

from contracts import errors
from mockserver.files.blobs import DERIVED, BlobWriter
from mockserver.owned import find, insert_row, new_row, scope
from mockserver.pagination import Page, paginate
from mockserver.services import Services
from mockserver.tables import FileRow, JobRow

log = logging.getLogger("mockserver")

__all__ = ["release_after_commit", "file_to_wire", "create_file", "publish", "record_file", "get_file", "list_files", "delete_file",
           "deleted_wire", "derived_file", "register_deriver", "content"]



def file_to_wire(row: FileRow) -> dict:
    return {"id": row.id, "object": "file", "bytes": row.bytes, "created_at": row.created_at,
            "expires_at": row.expires_at, "filename": row.filename, "purpose": row.purpose,
            "status": row.status, "status_details": row.status_details}


def deleted_wire(file_id: str) -> dict:
    return {"id": file_id, "object": "file", "deleted": True}


def create_file(s: Session | Connection, svc: Services, *, tenant: str, blob: BlobWriter, filename: str, purpose: str,
                size: int, expires_after: int | None = None) -> FileRow:
    """Publish a closed blob and record it; the row commits only after the bytes are durable."""
    file_id, path = publish(svc, blob)
    return record_file(s, svc, tenant=tenant, file_id=file_id, path=path, filename=filename, purpose=purpose,
                       size=size, expires_after=expires_after)


def publish(svc: Services, blob: BlobWriter) -> tuple[str, str]:
    """A new file's id, and its closed blob published under it: (id, blob key), for `record_file`."""
    file_id = svc.ids.new("file")
    return file_id, blob.publish(file_id)


def record_file(s: Session | Connection, svc: Services, *, tenant: str, file_id: str, path: str, filename: str,
                purpose: str, size: int, expires_after: int | None = None) -> FileRow:
    """The row of a file whose bytes `publish` made durable under `path` (one INSERT)."""
    now = svc.now(s)
    return insert_row(s, new_row(
        FileRow, id=file_id, tenant=tenant, filename=filename, purpose=purpose, bytes=size, created_at=now,
        expires_at=now + expires_after if expires_after else None, status="processed", status_details=None, path=path,
        deleted=False))


def derived_file(s: Session | Connection, svc: Services, *, tenant: str, kind: str, key: str, filename: str, purpose: str,
                 created_at: int) -> str:
    """Record a file whose content `content` derives on read (one INSERT, nothing written to disk)."""
    file_id = svc.ids.new("file")
    insert_row(s, new_row(
        FileRow, id=file_id, tenant=tenant, filename=filename, purpose=purpose, bytes=-1, created_at=created_at,
        expires_at=None, status="processed", status_details=None, path=f"{DERIVED}{kind}:{key}", deleted=False))
    return file_id


_DERIVERS: dict[str, Callable[[Session, str], bytes]] = {}


def register_deriver(kind: str, derive: Callable[[Session, str], bytes]) -> None:
    """`derive(session, key)` makes the content of the derived files of `kind` (jobs register "results")."""
    _DERIVERS[kind] = derive


def _derive(s: Session, path: str) -> bytes:
    kind, key = path.removeprefix(DERIVED).split(":", 1)
    return _DERIVERS[kind](s, key)


def content(s: Session, row: FileRow) -> bytes | None:
    """A derived file's bytes; None for a stored file (its bytes are the blob store's, under `row.path`)."""
    return _derive(s, row.path) if row.path.startswith(DERIVED) else None


def _settle(s: Session, rows: list[FileRow]) -> None:
    """Give derived files whose size is not known yet their size, once."""
    for row in rows:
        if row.bytes < 0:
            row.bytes = len(_derive(s, row.path))
            s.execute(update(FileRow).where(FileRow.id == row.id).values(bytes=row.bytes))


def get_file(s: Session, *, tenant: str, file_id: str, param: str = "id", settle: bool = True) -> FileRow:
    row = find(s, FileRow, tenant, file_id, live=True)
    if row is None:
        raise errors.no_such_object("File", file_id, param)
    if settle:
        _settle(s, [row])
    return row


def list_files(s: Session, *, tenant: str, purpose: str | None, limit: int, after: str | None,
               order: str) -> Page:
    where = scope(FileRow, tenant, live=True)
    if purpose:
        where.append(FileRow.purpose == purpose)
    page = paginate(s, FileRow, where=where, cursor_scope=scope(FileRow, tenant), limit=limit,
                    after=after, order=order)
    _settle(s, list(page.rows))
    return page


def release_after_commit(s: Session, svc: Services, row: FileRow) -> None:
    """Once the deletion of `row` commits, remove its bytes unless a fine-tuning job names the file: a job's
    models answer from their training file's bytes by reference (no snapshot copy), so those stay while the
    job exists (the sweep keeps them too: blobs.referenced_keys). Checked after the commit, on a session of
    its own: a job created meanwhile either is seen here or finds the file deleted when it validates."""
    if row.path.startswith(DERIVED):
        return
    key, file_id = row.path, row.id

    def release(_: Session) -> None:
        try:
            with svc.db.session() as check:
                if check.exec(select(JobRow.id).where(JobRow.training_file == file_id).limit(1)).first():
                    return
            svc.files.remove(key)
        except Exception as e:  # the sweep removes it later
            log.warning("could not remove %s now (the next sweep will): %s", key, e)
    event.listen(s, "after_commit", release, once=True)


def delete_file(s: Session, *, tenant: str, file_id: str) -> FileRow:
    """Tombstone the row; the caller removes the bytes once the deletion has committed."""
    row = get_file(s, tenant=tenant, file_id=file_id, settle=False)
    row.deleted = True
    s.add(row)
    return row
