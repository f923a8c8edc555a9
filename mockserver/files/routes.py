"""`/v1/files`: upload (streamed multipart), list, retrieve, delete, content."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncIterator
from typing import Annotated, Any, BinaryIO
from urllib.parse import quote

from fastapi import APIRouter
from pydantic import BeforeValidator
from sqlalchemy.exc import IntegrityError
from starlette.requests import Request
from starlette.responses import FileResponse, Response, StreamingResponse
from starlette.routing import Route

from contracts import errors
from contracts.requests import api_error, parse
from mockserver.deps import ServicesDep, SessionDep, TenantDep, fast_route, off_loop, write_on_loop
from mockserver.files import store
from mockserver.files.blobs import CHUNK
from mockserver.files.multipart import receive_form
from mockserver.files.request import FileForm
from mockserver.http import JSONResponse
from mockserver.pagination import list_params, list_query

router = APIRouter(prefix="/v1/files", tags=["files"])


def _order(value: Any) -> Any:
    if value not in ("asc", "desc"):
        raise api_error("invalid_value", f"Invalid '{{path}}': expected 'asc' or 'desc', got {value!r}.")
    return value


FilesQuery = list_query("files", ahead={"order": (Annotated[str, BeforeValidator(_order)], "desc")},
                        behind={"purpose": (str | None, None)})


@router.post("")
async def create_file(request: Request, svc: ServicesDep, tenant: TenantDep) -> JSONResponse:
    form = await receive_form(request, svc.files.writer(), max_file_bytes=svc.settings.max_file_bytes)
    with form as blob:
        fields = parse(FileForm, FileForm.of(form.filename, form.fields),
                       require_jsonl=svc.settings.require_jsonl_extension)
        file_id, path = store.publish(svc, blob)   # once: a retried INSERT records the same id and bytes
        new_row = functools.partial(store.record_file, svc=svc, tenant=tenant.key, file_id=file_id, path=path,
                                   filename=fields.file or "file", purpose=fields.purpose, size=form.size,
                                   expires_after=fields.expires_after.seconds if fields.expires_after else None)
        inserted: list[bool] = []   # the last attempt's INSERT ran (its commit may still fail)

        def record(conn):
            inserted.clear()
            row = new_row(conn)
            inserted.append(True)
            return row

        # The transaction (prebuilt statements only, on the pooled DBAPI connection: `Database.raw_transaction`)
        # begins once the body is in: no pooled connection is held while an upload streams, however many stream.
        # On the loop unless another connection holds the write lock: then on a worker thread (`write_on_loop`).
        try:
            row = await write_on_loop(svc.db, record)
        except Exception as e:
            # the INSERT itself failed (rolled back): no row names the published bytes. Unless it failed for the row
            # being there (IntegrityError: an earlier attempt's commit that reported a failure did happen): it
            # names them.
            if not inserted and not isinstance(e, IntegrityError):
                await asyncio.to_thread(svc.files.remove, path)
            raise   # (a failed commit may have committed: its bytes stay; a cancelled wait's thread goes on)
    return JSONResponse(store.file_to_wire(row))


@router.get("")
async def list_files(s: SessionDep, tenant: TenantDep, purpose: str | None = None, limit: str | None = None,
                     after: str | None = None, order: str | None = None) -> JSONResponse:
    q = list_params(FilesQuery, order=order, limit=limit, after=after, purpose=purpose)
    page = await off_loop(s, store.list_files, tenant=tenant.key, purpose=q.purpose, limit=q.limit, after=q.after,
                          order=q.order)   # a derived file's first read computes its size: off the event loop
    return JSONResponse(page.render(store.file_to_wire))


@router.get("/{file_id}")
async def retrieve_file(file_id: str, s: SessionDep, tenant: TenantDep) -> JSONResponse:
    row = await off_loop(s, store.get_file, tenant=tenant.key, file_id=file_id)
    return JSONResponse(store.file_to_wire(row))


@router.delete("/{file_id}")
async def delete_file(file_id: str, svc: ServicesDep, s: SessionDep, tenant: TenantDep) -> JSONResponse:
    row = store.delete_file(s, tenant=tenant.key, file_id=file_id)
    store.release_after_commit(s, svc, row)
    return JSONResponse(store.deleted_wire(file_id))


def _content(s, tenant, file_id: str):
    row = store.get_file(s, tenant=tenant.key, file_id=file_id)
    return row, store.content(s, row)


@router.get("/{file_id}/content")
async def file_content(file_id: str, svc: ServicesDep, s: SessionDep, tenant: TenantDep) -> Response:
    """The bytes, streamed after the handler returns: the request's transaction has ended by then."""
    row, derived = await off_loop(s, _content, tenant, file_id)
    if derived is not None:  # results files: computed, sent with the headers a stored file gets
        return Response(derived, media_type="application/octet-stream",
                        headers=_download_headers(row.filename, len(derived)))
    path = svc.files.local_path(row.path)
    if path is not None:
        if not path.is_file():
            raise errors.no_such_file(file_id)
        return FileResponse(path, media_type="application/octet-stream", filename=row.filename,
                            content_disposition_type="attachment")
    try:
        reader = await asyncio.to_thread(svc.files.open, row.path)
    except FileNotFoundError:
        raise errors.no_such_file(file_id) from None
    return StreamingResponse(_chunks(reader), media_type="application/octet-stream",
                             headers=_download_headers(row.filename, row.bytes))


async def _chunks(reader: BinaryIO) -> AsyncIterator[bytes]:
    """A blob streamed a chunk at a time, each read off the event loop; a blob removed mid-read ends the
    response short of its Content-Length (the client sees a broken download, never wrong bytes)."""
    try:
        while chunk := await asyncio.to_thread(reader.read, CHUNK):
            yield chunk
    finally:
        reader.close()


def _download_headers(filename: str, size: int) -> dict[str, str]:
    """What FileResponse sends for a file on disk: length and an attachment disposition."""
    quoted = quote(filename)
    disposition = (f"attachment; filename*=utf-8''{quoted}" if quoted != filename
                   else f'attachment; filename="{filename}"')
    return {"content-length": str(size), "content-disposition": disposition}


def fast_routes() -> list[Route]:
    """Upload and retrieve outside FastAPI's per-request machinery (see deps.fast_route)."""
    return [fast_route(router.prefix, create_file, ["POST"]), fast_route(f"{router.prefix}/{{file_id}}", retrieve_file,
                                                                          ["GET"])]
