"""The hot routes served outside FastAPI's machinery (deps.fast_route) stay documented and refuse what they
cannot fill: every fast route has its FastAPI twin (same path and method, in /openapi.json), and a handler
parameter fast_route cannot fill is an error at start-up, never a silently missing argument."""

from __future__ import annotations

from typing import Annotated

import pytest
from fastapi import Depends
from starlette.routing import Route

from mockserver.deps import ServicesDep, fast_route
from mockserver.testing import Emulator


def test_every_fast_route_has_its_documented_fastapi_twin() -> None:
    with Emulator() as emu:
        routes = emu.app.router.routes
        fast = [r for r in routes if type(r) is Route and r.path.startswith("/v1/")]
        spec = emu.app.openapi()["paths"]
    assert {r.path for r in fast} >= {"/v1/files", "/v1/fine_tuning/jobs", "/v1/fine_tuning/jobs/{fine_tuning_job_id}"}
    for route in fast:
        for method in route.methods:
            assert method.lower() in spec[route.path], (method, route.path)


def test_a_parameter_fast_route_cannot_fill_is_refused() -> None:
    async def handler(svc: ServicesDep, n: Annotated[int, Depends(lambda: 1)]) -> None:  # pragma: no cover
        return None

    with pytest.raises(TypeError, match="'n'"):
        fast_route("/x", handler, ["GET"])
