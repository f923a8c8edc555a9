"""`/v1/fine_tuning/jobs`: create, list, retrieve, cancel/pause/resume, events, checkpoints."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.routing import Route

from contracts.jobs import parse_job_request
from mockserver.deps import ServicesDep, TenantDep, fast_route, write_on_loop
from mockserver.http import JSONResponse, read_json
from mockserver.ids import IdTape
from mockserver.jobs import store
from mockserver.jobs.simulator import TERMINAL
from mockserver.pagination import ListQuery, list_params, list_query
from mockserver.services import Services
from mockserver.tenancy import Tenant

router = APIRouter(prefix="/v1/fine_tuning/jobs", tags=["fine-tuning"])
JobsQuery, EventsQuery, CheckpointsQuery = list_query("jobs"), list_query("events"), list_query("checkpoints")


async def _run(fn, /, **kwargs):
    """Advancing may validate a large file: keep it off the event loop. Advancing is the one store call that
    owns its transactions (short compare-and-set ones, retried: no double advance across processes)."""
    return await asyncio.to_thread(fn, **kwargs)


async def _on_job(fn, /, svc: Services, tenant: Tenant, job_id: str, **kwargs):
    """`fn` (store.advance_job, or a lister that starts with it) for a read of the job: the row is read here, on
    the loop (a read waits on no lock: SQLite in WAL mode, PostgreSQL readers; as the chat path reads its model).
    A job that has ended has nothing left to advance, and one whose advance validates no file's bytes (its plan is
    known, or the verdict is in the caches) is advanced here (`store.advance_on_loop`: a short compare-and-set, as
    short as the upload's INSERT); then `fn` runs here too. Else `fn` runs on a worker thread (`_run`), handed the
    row (and its training file's key, read with it) so neither is read twice.

    The row of a job that has ended is kept in the caches (`jobs`) and used instead of a read: nothing on it
    changes but by a reset, which moves the cache generation (every process then drops it)."""
    view = svc.caches.view()
    key = (tenant.key, job_id)
    ended = view.get("jobs", key)
    if ended is not None:
        return fn(svc=svc, tenant=tenant.key, job_id=job_id, read=store.JobRead(ended, None), **kwargs)
    with svc.db.raw_read() as conn:
        read = store.read_job(conn, tenant=tenant.key, job_id=job_id)   # with its training file's key
    if read.row.status not in TERMINAL:
        advanced = store.advance_on_loop(svc, read, view)
        if advanced is None:
            return await _run(fn, svc=svc, tenant=tenant.key, job_id=job_id, read=read, **kwargs)
        read = store.JobRead(advanced, read.training, advanced=True)
    if read.row.status in TERMINAL:
        view.put("jobs", key, read.row)
    return fn(svc=svc, tenant=tenant.key, job_id=job_id, read=read, **kwargs)


@router.post("")
async def create_job(request: Request, svc: ServicesDep, tenant: TenantDep) -> JSONResponse:
    req = parse_job_request(await read_json(request))
    once = svc if svc.ids.seed is None else dataclasses.replace(svc, ids=IdTape(svc.ids))   # a retry: the same ids

    def attempt(conn):
        if once is not svc:
            once.ids.rewind()
        return store.create_job(conn, once, tenant=tenant, req=req)

    # begun once the body is read (prebuilt statements only: the raw path); on the loop unless another connection
    # holds the write lock: then on a worker thread (`write_on_loop`)
    row = await write_on_loop(svc.db, attempt)
    return JSONResponse(store.job_to_wire(row))


def _metadata_filter(request: Request) -> tuple[dict[str, str] | None, bool]:
    pairs = {k[len("metadata["):-1]: v for k, v in request.query_params.items()
             if k.startswith("metadata[") and k.endswith("]")}
    return (pairs or None), request.query_params.get("metadata") == "null"


@router.get("")
async def list_jobs(request: Request, svc: ServicesDep, tenant: TenantDep, limit: str | None = None,
                    after: str | None = None) -> JSONResponse:
    q = list_params(JobsQuery, limit=limit, after=after)
    metadata, metadata_null = _metadata_filter(request)
    page = await _run(store.list_jobs, svc=svc, tenant=tenant.key, limit=q.limit, after=q.after, metadata=metadata,
                      metadata_null=metadata_null)
    return JSONResponse(page.render(store.job_to_wire, ids=False))


@router.get("/{fine_tuning_job_id}")
async def retrieve_job(fine_tuning_job_id: str, svc: ServicesDep, tenant: TenantDep) -> JSONResponse:
    row = await _on_job(store.advance_job, svc, tenant, fine_tuning_job_id)
    return JSONResponse(store.job_to_wire(row))


async def _act(svc, tenant, job_id: str, action: str) -> JSONResponse:
    row = await _run(store.advance_job, svc=svc, tenant=tenant.key, job_id=job_id, action=action)
    return JSONResponse(store.job_to_wire(row))


@router.post("/{fine_tuning_job_id}/cancel")
async def cancel_job(fine_tuning_job_id: str, svc: ServicesDep, tenant: TenantDep) -> JSONResponse:
    return await _act(svc, tenant, fine_tuning_job_id, "cancel")


@router.post("/{fine_tuning_job_id}/pause")
async def pause_job(fine_tuning_job_id: str, svc: ServicesDep, tenant: TenantDep) -> JSONResponse:
    return await _act(svc, tenant, fine_tuning_job_id, "pause")


@router.post("/{fine_tuning_job_id}/resume")
async def resume_job(fine_tuning_job_id: str, svc: ServicesDep, tenant: TenantDep) -> JSONResponse:
    return await _act(svc, tenant, fine_tuning_job_id, "resume")


@router.get("/{fine_tuning_job_id}/events")
async def list_events(fine_tuning_job_id: str, svc: ServicesDep, tenant: TenantDep, limit: str | None = None,
                      after: str | None = None) -> JSONResponse:
    return await _job_page(store.list_events, EventsQuery, svc, tenant, fine_tuning_job_id, limit, after, ids=False)


@router.get("/{fine_tuning_job_id}/checkpoints")
async def list_checkpoints(fine_tuning_job_id: str, svc: ServicesDep, tenant: TenantDep, limit: str | None = None,
                           after: str | None = None) -> JSONResponse:
    return await _job_page(store.list_checkpoints, CheckpointsQuery, svc, tenant, fine_tuning_job_id, limit, after)


async def _job_page(lister: Callable[..., Any], query: type[ListQuery], svc: Services, tenant: Tenant, job_id: str,
                    limit: str | None, after: str | None, **render: Any) -> JSONResponse:
    """One page of a job's events or checkpoints, its query string checked by `query`."""
    q = list_params(query, limit=limit, after=after)
    page = await _on_job(lister, svc, tenant, job_id, limit=q.limit, after=q.after)
    return JSONResponse(page.render(dict, **render))


def fast_routes() -> list[Route]:
    """The lifecycle's job calls outside FastAPI's per-request machinery (see deps.fast_route)."""
    one = f"{router.prefix}/{{fine_tuning_job_id}}"
    return [fast_route(router.prefix, create_job, ["POST"]), fast_route(one, retrieve_job, ["GET"]),
            fast_route(f"{one}/events", list_events, ["GET"])]
