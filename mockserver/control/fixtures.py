"""`/_mock/fixtures` (control plane): register, list and remove canned chat replies (see mockserver.chat.fixtures)."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request

from contracts.requests import parse
from mockserver.chat import fixtures as store
from mockserver.control.request import FixtureBody
from mockserver.deps import CallerDep, ControlGuard, ServicesDep, SessionDep
from mockserver.http import JSONResponse, read_json

router = APIRouter(prefix="/_mock/fixtures", tags=["control"], dependencies=[ControlGuard])


@router.post("")
async def create_fixture(request: Request, svc: ServicesDep, s: SessionDep, tenant: CallerDep) -> JSONResponse:
    body = parse(FixtureBody, await read_json(request))
    row = store.add_fixture(s, svc, tenant=tenant, model=body.model, pattern=body.pattern, reply=body.reply.stored())
    return JSONResponse(store.fixture_to_wire(row))


@router.get("")
async def list_fixtures(s: SessionDep, tenant: CallerDep) -> JSONResponse:
    rows = store.visible_fixtures(s, tenant=tenant)
    return JSONResponse({"object": "list", "data": [store.fixture_to_wire(r) for r in rows]})


@router.delete("")
async def clear_fixtures(s: SessionDep, tenant: CallerDep) -> JSONResponse:
    return JSONResponse({"object": "list", "deleted": store.remove_fixtures(s, tenant=tenant)})


@router.delete("/{fixture_id}")
async def delete_fixture(fixture_id: str, s: SessionDep, tenant: CallerDep) -> JSONResponse:
    store.remove_fixtures(s, tenant=tenant, fixture_id=fixture_id)
    return JSONResponse({"id": fixture_id, "object": "mock.fixture", "deleted": True})
