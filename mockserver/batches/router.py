"""`/v1/batches`: create, retrieve, list (cursor pagination), cancel. Reads advance the batch
(mockserver.batches.runner)."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request

from contracts.limits import BATCH_WINDOW_SECONDS
from mockserver.batches import runner, store
from mockserver.batches.request import parse_create
from mockserver.deps import ServicesDep, SessionDep, TenantDep
from mockserver.http import JSONResponse, read_json
from mockserver.pagination import list_params, list_query

router = APIRouter(prefix="/v1/batches", tags=["batch"])
BatchesQuery = list_query("batches")

@router.post("")
async def create_batch(request: Request, svc: ServicesDep, s: SessionDep, tenant: TenantDep) -> JSONResponse:
    body = parse_create(await read_json(request))
    now = svc.policy(s).now(svc.wall())
    row = store.create(s, svc, tenant=tenant.key, organization_id=tenant.organization_id, body=body, now=now,
                       window_seconds=BATCH_WINDOW_SECONDS)
    return JSONResponse(store.batch_to_wire(row))


@router.get("")
async def list_batches(svc: ServicesDep, s: SessionDep, tenant: TenantDep, limit: str | None = None,
                       after: str | None = None) -> JSONResponse:
    q = list_params(BatchesQuery, limit=limit, after=after)
    page = store.list_batches(s, tenant=tenant.key, limit=q.limit, after=q.after)
    s.rollback()  # the page is read; advancing runs in the runner's own short transactions
    rows = [r if r.status in store.TERMINAL else await runner.advance(svc, tenant=tenant.key, batch_id=r.id)
            for r in page.rows]
    page.rows = rows
    return JSONResponse(page.render(store.batch_to_wire))


@router.get("/{batch_id}")
async def retrieve_batch(batch_id: str, svc: ServicesDep, tenant: TenantDep) -> JSONResponse:
    return JSONResponse(store.batch_to_wire(await runner.advance(svc, tenant=tenant.key, batch_id=batch_id)))


@router.post("/{batch_id}/cancel")
async def cancel_batch(batch_id: str, svc: ServicesDep, tenant: TenantDep) -> JSONResponse:
    return JSONResponse(store.batch_to_wire(await runner.cancel(svc, tenant=tenant.key, batch_id=batch_id)))
