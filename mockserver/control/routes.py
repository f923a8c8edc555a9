"""`/_mock/*`: the emulator's control plane (never under /v1): reset, clock, policy, forced failures, seed."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter
from starlette.requests import Request

from contracts import errors
from contracts.limits import CLOCK_LATEST, FORCED_FAILURE_STAGES, TIME_SCALE_RANGE
from mockserver.chat import fidelity as fidelity_store
from mockserver.control import store
from mockserver.deps import CallerDep, ControlGuard, ServicesDep, SessionDep
from mockserver.http import JSONResponse, read_json
from mockserver.jobs import clock
from mockserver.jobs import store as job_store
from mockserver.settings import ANSWER_FIDELITY, TRANSITIONS

router = APIRouter(prefix="/_mock", tags=["control"], dependencies=[ControlGuard])



async def _body(request: Request) -> dict:
    raw = await request.body()
    if not raw.strip():
        return {}
    return await read_json(request)


def _policy_wire(policy: clock.Policy, wall: float) -> dict:
    return {"transitions": policy.transitions, "time_scale": policy.time_scale, "now": policy.now(wall)}


@router.get("/state")
async def state(svc: ServicesDep, s: SessionDep) -> JSONResponse:
    return JSONResponse(_policy_wire(svc.policy(s), svc.wall()) | {"seed": svc.ids.seed})


@router.post("/clock/advance")
async def advance_clock(request: Request, svc: ServicesDep) -> JSONResponse:
    body = await _body(request)
    seconds = body.get("seconds")
    if isinstance(seconds, bool) or not isinstance(seconds, int | float):
        raise errors.invalid_type("seconds", "a number", seconds)
    if seconds < 0:
        raise errors.below_min("seconds", 0, seconds)

    def change(policy: clock.Policy) -> clock.Policy:
        if policy.now(svc.wall()) + seconds > CLOCK_LATEST:
            raise errors.invalid_value("seconds", f"'seconds' would move the clock past {CLOCK_LATEST:.0f} (early "
                                                  "2037): timestamps are stored as 32-bit integers.")
        return clock.advance(policy, float(seconds), svc.wall())

    policy = svc.change_policy(change)
    return JSONResponse(_policy_wire(policy, svc.wall()))


@router.post("/policy")
async def set_policy(request: Request, svc: ServicesDep) -> JSONResponse:
    body = await _body(request)
    transitions, scale = body.get("transitions"), body.get("time_scale")
    if transitions is not None and transitions not in TRANSITIONS:
        raise errors.invalid_value("transitions", f"'transitions' must be one of {', '.join(TRANSITIONS)}.")
    if scale is not None and (isinstance(scale, bool) or not isinstance(scale, int | float)
                              or not TIME_SCALE_RANGE[0] <= scale <= TIME_SCALE_RANGE[1]):
        raise errors.invalid_value("time_scale", f"'time_scale' must be a number from {TIME_SCALE_RANGE[0]} to {TIME_SCALE_RANGE[1]:g}.")

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
    body = await _body(request)
    if "fidelity" not in body:
        raise errors.missing_parameter("fidelity")
    mode = body["fidelity"]
    if mode is not None and mode not in ANSWER_FIDELITY:
        raise errors.invalid_value("fidelity", f"'fidelity' must be one of {', '.join(ANSWER_FIDELITY)} or null.")
    overrides = fidelity_store.save(s, tenant=tenant, mode=mode)
    return JSONResponse(_fidelity_wire(overrides, tenant, svc.settings.answer_fidelity))


@router.post("/jobs/{job_id}/fail")
async def fail_job(job_id: str, request: Request, svc: ServicesDep) -> JSONResponse:
    body = await _body(request)
    stage = body.get("stage", "running")
    if stage not in FORCED_FAILURE_STAGES:
        raise errors.invalid_value("stage", f"'stage' must be one of {', '.join(FORCED_FAILURE_STAGES)}.")
    code = body.get("code") or "server_error"
    message = body.get("message") or "The job failed due to an internal error."
    row = await asyncio.to_thread(job_store.force_failure, svc, job_id=job_id, stage=stage, code=str(code),
                                  message=str(message), param=body.get("param"))
    return JSONResponse(job_store.job_to_wire(row))


@router.post("/seed")
async def set_seed(request: Request, svc: ServicesDep) -> JSONResponse:
    seed = (await _body(request)).get("seed")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int) or seed < 0):
        raise errors.invalid_value("seed", "'seed' must be a non-negative integer or null.")
    svc.ids.reseed(seed)
    return JSONResponse({"seed": seed})


@router.post("/reset")
async def reset(request: Request, svc: ServicesDep) -> JSONResponse:
    """Forget everything, or (with `{"api_key": "sk-…"}`) only that key's tenant."""
    body = await _body(request)
    tenant = svc.keys.authenticate(f"Bearer {body['api_key']}").key if body.get("api_key") else None
    removed = await asyncio.to_thread(store.reset, svc, tenant)
    return JSONResponse({"reset": "tenant" if tenant else "all", "files_removed": removed})
