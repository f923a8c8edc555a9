"""`/_mock/*`: the emulator's control plane (never under /v1): reset, clock, policy, forced failures, seed."""

from __future__ import annotations

import asyncio
from typing import TypeVar

from fastapi import APIRouter
from starlette.requests import Request

from contracts import errors
from contracts.limits import CLOCK_LATEST
from contracts.requests import parse
from mockserver.chat import fidelity as fidelity_store
from mockserver.control import store
from mockserver.control.request import (
    AdvanceBody,
    ControlBody,
    FailBody,
    FidelityBody,
    PolicyBody,
    ResetBody,
    SeedBody,
)
from mockserver.deps import CallerDep, ControlGuard, ServicesDep, SessionDep
from mockserver.http import JSONResponse, read_json
from mockserver.jobs import clock
from mockserver.jobs import store as job_store

B = TypeVar("B", bound=ControlBody)

router = APIRouter(prefix="/_mock", tags=["control"], dependencies=[ControlGuard])



async def _body(request: Request, model: type[B]) -> B:
    """The body checked by `model`; an empty body is `{}`."""
    raw = await request.body()
    return parse(model, await read_json(request) if raw.strip() else {})


def _policy_wire(policy: clock.Policy, wall: float) -> dict:
    return {"transitions": policy.transitions, "time_scale": policy.time_scale, "now": policy.now(wall)}


@router.get("/state")
async def state(svc: ServicesDep, s: SessionDep) -> JSONResponse:
    return JSONResponse(_policy_wire(svc.policy(s), svc.wall()) | {"seed": svc.ids.seed})


@router.post("/clock/advance")
async def advance_clock(request: Request, svc: ServicesDep) -> JSONResponse:
    seconds = (await _body(request, AdvanceBody)).seconds

    def change(policy: clock.Policy) -> clock.Policy:
        if policy.now(svc.wall()) + seconds > CLOCK_LATEST:
            raise errors.invalid_value("seconds", f"'seconds' would move the clock past {CLOCK_LATEST:.0f} (early "
                                                  "2037): timestamps are stored as 32-bit integers.")
        return clock.advance(policy, float(seconds), svc.wall())

    policy = svc.change_policy(change)
    return JSONResponse(_policy_wire(policy, svc.wall()))


@router.post("/policy")
async def set_policy(request: Request, svc: ServicesDep) -> JSONResponse:
    body = await _body(request, PolicyBody)
    transitions, scale = body.transitions, body.time_scale

    def change(policy: clock.Policy) -> clock.Policy:
        if transitions is not None:
            policy = clock.set_transitions(policy, transitions, svc.wall())
        if scale is not None:
            policy = clock.set_time_scale(policy, float(scale), svc.wall())
        return policy

    policy = svc.change_policy(change)
    return JSONResponse(_policy_wire(policy, svc.wall()))


def _fidelity_wire(overrides: dict, tenant: str | None, default: str) -> dict:
    return {"fidelity": fidelity_store.effective(overrides, tenant, default), "scope": "tenant" if tenant else "all",
            "default": default}


@router.get("/answers")
async def get_answer_fidelity(svc: ServicesDep, s: SessionDep, tenant: CallerDep) -> JSONResponse:
    """The answer fidelity the caller's tenant gets (with `Authorization`), else the one for every tenant."""
    overrides = fidelity_store.load(s)
    return JSONResponse(_fidelity_wire(overrides, tenant, svc.settings.answer_fidelity))


@router.post("/answers")
async def set_answer_fidelity(request: Request, svc: ServicesDep, s: SessionDep, tenant: CallerDep) -> JSONResponse:
    """`{"fidelity": "exact" | "epochs" | null}`: for the caller's tenant (with `Authorization`), else for every
    tenant; null goes back to the flag (`--answer-fidelity`)."""
    mode = (await _body(request, FidelityBody)).fidelity
    overrides = fidelity_store.save(s, tenant=tenant, mode=mode)
    return JSONResponse(_fidelity_wire(overrides, tenant, svc.settings.answer_fidelity))


@router.post("/jobs/{job_id}/fail")
async def fail_job(job_id: str, request: Request, svc: ServicesDep) -> JSONResponse:
    body = await _body(request, FailBody)
    code = body.code or "server_error"
    message = body.message or "The job failed due to an internal error."
    row = await asyncio.to_thread(job_store.force_failure, svc, job_id=job_id, stage=body.stage, code=str(code),
                                  message=str(message), param=body.param)
    return JSONResponse(job_store.job_to_wire(row))


@router.post("/seed")
async def set_seed(request: Request, svc: ServicesDep) -> JSONResponse:
    seed = (await _body(request, SeedBody)).seed
    svc.ids.reseed(seed)
    return JSONResponse({"seed": seed})


@router.post("/reset")
async def reset(request: Request, svc: ServicesDep) -> JSONResponse:
    """Forget everything, or (with `{"api_key": "sk-…"}`) only that key's tenant."""
    api_key = (await _body(request, ResetBody)).api_key
    tenant = svc.keys.authenticate(f"Bearer {api_key}").key if api_key else None
    removed = await asyncio.to_thread(store.reset, svc, tenant)
    return JSONResponse({"reset": "tenant" if tenant else "all", "files_removed": removed})
