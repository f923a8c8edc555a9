"""Dependency aliases for handlers: the services and the authenticated tenant."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from starlette.requests import Request

from mockserver.services import Services
from mockserver.tenancy import Tenant

__all__ = ["ServicesDep", "TenantDep", "get_services", "get_tenant"]


def get_services(request: Request) -> Services:
    return request.app.state.services


def get_tenant(request: Request) -> Tenant:
    tenant = request.app.state.services.keys.authenticate(request.headers.get("authorization"))
    request.state.tenant = tenant
    return tenant


ServicesDep = Annotated[Services, Depends(get_services)]
TenantDep = Annotated[Tenant, Depends(get_tenant)]
