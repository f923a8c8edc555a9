"""`/_mock/fixtures` (control plane): register, list and remove canned chat replies (see mockserver.chat.fixtures)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from sqlmodel import col, select
from starlette.requests import Request

from contracts import errors
from mockserver.chat.fixtures import invalidate, parse_fixture
from mockserver.deps import ControlGuard, ServicesDep
from mockserver.http import JSONResponse, read_json
from mockserver.services import Services
from mockserver.tables import FixtureRow

router = APIRouter(prefix="/_mock/fixtures", tags=["control"], dependencies=[ControlGuard])



def _caller(request: Request, svc: Services) -> str | None:
    header = request.headers.get("authorization")
    return svc.keys.authenticate(header).key if header else None


def _wire(row: FixtureRow) -> dict:
    return {"id": row.id, "object": "mock.fixture", "scope": "tenant" if row.tenant else "global",
            "model": row.model, "pattern": row.pattern, "reply": row.reply}


def _visible(tenant: str | None) -> Any:
    stmt = select(FixtureRow).order_by(col(FixtureRow.seq).desc())
    if tenant is not None:
        stmt = stmt.where((FixtureRow.tenant == tenant) | (col(FixtureRow.tenant).is_(None)))
    return stmt


@router.post("")
async def create_fixture(request: Request, svc: ServicesDep) -> JSONResponse:
    tenant = _caller(request, svc)
    model, pattern, reply = parse_fixture(await read_json(request))
    with svc.db.session() as s:
        row = FixtureRow(id=svc.ids.new("fixture"), tenant=tenant, model=model, pattern=pattern, reply=reply)
        s.add(row)
    invalidate(svc)
    return JSONResponse(_wire(row))


@router.get("")
async def list_fixtures(request: Request, svc: ServicesDep) -> JSONResponse:
    tenant = _caller(request, svc)
    with svc.db.session() as s:
        rows = s.exec(_visible(tenant)).all()
    return JSONResponse({"object": "list", "data": [_wire(r) for r in rows]})


@router.delete("")
async def clear_fixtures(request: Request, svc: ServicesDep) -> JSONResponse:
    tenant = _caller(request, svc)
    with svc.db.session() as s:
        rows = s.exec(_visible(tenant)).all()
        for row in rows:
            s.delete(row)
    invalidate(svc)
    return JSONResponse({"object": "list", "deleted": len(rows)})


@router.delete("/{fixture_id}")
async def delete_fixture(fixture_id: str, request: Request, svc: ServicesDep) -> JSONResponse:
    tenant = _caller(request, svc)
    with svc.db.session() as s:
        row = s.exec(_visible(tenant).where(FixtureRow.id == fixture_id)).first()
        if row is None:
            raise errors.no_such_object("Fixture", fixture_id, "fixture_id")
        s.delete(row)
    invalidate(svc)
    return JSONResponse({"id": fixture_id, "object": "mock.fixture", "deleted": True})
