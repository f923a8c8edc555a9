"""`/v1/uploads`: create, add parts (multipart `data`), complete into a File, cancel."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request

from contracts.limits import MAX_PART_BYTES
from contracts.requests import parse
from mockserver.deps import ServicesDep, SessionDep, TenantDep
from mockserver.files import uploads as store
from mockserver.files.multipart import receive_form
from mockserver.files.request import CompleteBody, UploadBody
from mockserver.http import JSONResponse, read_json

router = APIRouter(prefix="/v1/uploads", tags=["uploads"])


@router.post("")
async def create_upload(request: Request, svc: ServicesDep, s: SessionDep, tenant: TenantDep) -> JSONResponse:
    req = parse(UploadBody, await read_json(request), require_jsonl=svc.settings.require_jsonl_extension)
    return JSONResponse(store.upload_to_wire(store.create_upload(s, svc, tenant=tenant.key, req=req)))


@router.post("/{upload_id}/parts")
async def add_part(upload_id: str, request: Request, svc: ServicesDep, s: SessionDep,
                   tenant: TenantDep) -> JSONResponse:
    store.require_pending(store.get_upload(s, svc, tenant=tenant.key, upload_id=upload_id))  # fail fast
    s.rollback()  # that read's transaction ends here: none is held while the part streams in
    form = await receive_form(request, svc.files.writer(), max_file_bytes=MAX_PART_BYTES, file_field="data")
    with form as blob:
        part = store.add_part(s, svc, tenant=tenant.key, upload_id=upload_id, blob=blob, size=form.size)
        s.flush()
    return JSONResponse(store.part_to_wire(part))


@router.post("/{upload_id}/complete")
async def complete_upload(upload_id: str, request: Request, svc: ServicesDep, s: SessionDep,
                          tenant: TenantDep) -> JSONResponse:
    req = parse(CompleteBody, await read_json(request))
    row, file = store.complete_upload(s, svc, tenant=tenant.key, upload_id=upload_id, req=req)
    return JSONResponse(store.upload_to_wire(row, file))


@router.post("/{upload_id}/cancel")
async def cancel_upload(upload_id: str, svc: ServicesDep, s: SessionDep, tenant: TenantDep) -> JSONResponse:
    return JSONResponse(store.upload_to_wire(store.cancel_upload(s, svc, tenant=tenant.key, upload_id=upload_id)))
