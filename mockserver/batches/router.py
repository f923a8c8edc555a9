"""`/v1/batches`: create, retrieve, list (cursor pagination), cancel. Reads advance the batch
(mockserver.batches.runner)."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request

from contracts import errors
from contracts.limits import (
    BATCH_COMPLETION_WINDOWS,
    BATCH_ENDPOINTS,
    BATCH_SERVED_ENDPOINTS,
    BATCH_WINDOW_SECONDS,
    LIST_LIMITS,
)
from mockserver.batches import runner, store
from mockserver.chat import request as cr
from mockserver.deps import ServicesDep, SessionDep, TenantDep
from mockserver.http import JSONResponse, read_json
from mockserver.pagination import parse_limit

router = APIRouter(prefix="/v1/batches", tags=["batch"])

_FIELDS = frozenset({"input_file_id", "endpoint", "completion_window", "metadata", "output_expires_after"})
_EXPIRY_RANGE = (3600, 2_592_000)


def _supported(values: tuple[str, ...]) -> str:
    quoted = [f"'{v}'" for v in values]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + ", and " + quoted[-1]


def parse_create(body: dict) -> dict:
    """The validated create body, or the real 400."""
    for key in body:
        if key not in _FIELDS:
            raise errors.unknown_parameter(key)
    cr.as_string("input_file_id", cr.required("", body, "input_file_id"))
    endpoint = cr.as_string("endpoint", cr.required("", body, "endpoint"))
    if endpoint not in BATCH_ENDPOINTS:
        raise errors.invalid_value("endpoint", f"Invalid value: '{endpoint}'. Supported values are: "
                                   f"{_supported(BATCH_ENDPOINTS)}.")
    if endpoint not in BATCH_SERVED_ENDPOINTS:
        raise errors.invalid_value("endpoint", f"The emulator does not serve '{endpoint}'; its batches run "
                                   f"{_supported(BATCH_SERVED_ENDPOINTS)}.")
    window = cr.as_string("completion_window", cr.required("", body, "completion_window"))
    if window not in BATCH_COMPLETION_WINDOWS:
        raise errors.invalid_value("completion_window", f"Invalid value: '{window}'. Supported values are: "
                                   f"{_supported(BATCH_COMPLETION_WINDOWS)}.")
    if body.get("metadata") is not None:
        cr.check_metadata("metadata", body["metadata"])
    if body.get("output_expires_after") is not None:
        exp = cr.as_object("output_expires_after", body["output_expires_after"])
        cr.no_unknown("output_expires_after", exp, {"anchor", "seconds"})
        cr.as_enum("output_expires_after.anchor", cr.required("output_expires_after", exp, "anchor"), ("created_at",))
        cr.as_int("output_expires_after.seconds", cr.required("output_expires_after", exp, "seconds"), *_EXPIRY_RANGE)
    return body


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
    default, maximum = LIST_LIMITS["batches"]
    n = parse_limit(limit, default=default, maximum=maximum)
    page = store.list_batches(s, tenant=tenant.key, limit=n, after=after)
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
