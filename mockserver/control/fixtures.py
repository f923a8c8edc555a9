"""`/_mock/fixtures` (control plane): register, list and remove canned chat replies (see mockserver.chat.fixtures)."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request

from mockserver.chat import fixtures as store
from mockserver.deps import ControlGuard, ServicesDep
from mockserver.http import JSONResponse, read_json
from mockserver.services import Services

router = APIRouter(prefix="/_mock/fixtures", tags=["control"], dependencies=[ControlGuard])


def _caller(request: Request, svc: Services) -> str | None:
    header = request.headers.get("authorization")
    return svc.keys.authenticate(header).key if header else None


@router.post("")
async def create_fixture(request: Request, svc: ServicesDep) -> JSONResponse:
    tenant = _caller(request, svc)
    row = store.add_fixture(svc, tenant=tenant, body=await read_json(request))
    return JSONResponse(store.fixture_to_wire(row))


@router.get("")
async def list_fixtures(request: Request, svc: ServicesDep) -> JSONResponse:
    rows = store.visible_fixtures(svc, tenant=_caller(request, svc))
    return JSONResponse({"object": "list", "data": [store.fixture_to_wire(r) for r in rows]})


@router.delete("")
async def clear_fixtures(request: Request, svc: ServicesDep) -> JSONResponse:
    deleted = store.remove_fixtures(svc, tenant=_caller(request, svc))
    return JSONResponse({"object": "list", "deleted": deleted})


@router.delete("/{fixture_id}")
async def delete_fixture(fixture_id: str, request: Request, svc: ServicesDep) -> JSONResponse:
    store.remove_fixtures(svc, tenant=_caller(request, svc), fixture_id=fixture_id)
    return JSONResponse({"id": fixture_id, "object": "mock.fixture", "deleted": True})
