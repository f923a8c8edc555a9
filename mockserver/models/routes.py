"""`/v1/models`: list, retrieve (ids with colons), delete fine-tuned models."""

from __future__ import annotations

from fastapi import APIRouter

from mockserver.deps import SessionDep, TenantDep
from mockserver.http import JSONResponse
from mockserver.models import store

router = APIRouter(prefix="/v1/models", tags=["models"])


@router.get("")
async def list_models(s: SessionDep, tenant: TenantDep) -> JSONResponse:
    return JSONResponse(store.list_models(s, tenant=tenant.key))


@router.get("/{model_id:path}")
async def retrieve_model(model_id: str, s: SessionDep, tenant: TenantDep) -> JSONResponse:
    return JSONResponse(store.get_model_wire(s, tenant=tenant.key, model_id=model_id))


@router.delete("/{model_id:path}")
async def delete_model(model_id: str, s: SessionDep, tenant: TenantDep) -> JSONResponse:
    return JSONResponse(store.delete_model(s, tenant=tenant.key, model_id=model_id))
