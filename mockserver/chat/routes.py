"""`POST /v1/chat/completions` and `POST /v1/completions`: authentication (deps.authenticate) → body
validation (hand-written, see mockserver.chat.request) → the engine (mockserver.chat.run) → JSON or SSE."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from contracts.limits import MAX_GENERATION_BODY_BYTES
from mockserver.chat import wire
from mockserver.chat.request import parse_chat, parse_completion
from mockserver.chat.run import cpu, echoes, is_heavy, run_chat, run_completion
from mockserver.deps import authenticate
from mockserver.http import JSONResponse, read_json
from mockserver.services import Services

router = APIRouter(tags=["chat"])


_SSE_HEADERS = {"cache-control": "no-cache"}


_FRAMES_PER_WRITE = 32


async def _aiter(frames: Iterable[bytes]) -> AsyncIterator[bytes]:
    """The first frame on its own, then up to _FRAMES_PER_WRITE frames per write (same bytes, fewer sends)."""
    batch: list[bytes] = []
    first = True
    for f in frames:
        if first:
            first = False
            yield f
            continue
        batch.append(f)
        if len(batch) == _FRAMES_PER_WRITE:
            yield b"".join(batch)
            batch = []
    if batch:
        yield b"".join(batch)


def _sse(frames: Iterable[bytes]) -> StreamingResponse:
    return StreamingResponse(_aiter(frames), media_type="text/event-stream", headers=_SSE_HEADERS)


@router.post("/v1/chat/completions")
async def create_chat_completion(request: Request) -> Response:
    svc: Services = request.app.state.services
    tenant = authenticate(request)  # TenantDep's check, inline: no dependency machinery on the hot path
    req = parse_chat(await read_json(request, max_bytes=MAX_GENERATION_BODY_BYTES))
    out = await run_chat(svc, tenant.key, req)
    if req.stream:
        return _sse(wire.chat_frames(out.head, out.enc, out.choices,
                                     usage=out.usage if req.include_usage else None, error=out.stream_error))
    return await cpu(is_heavy(req), lambda: JSONResponse(wire.chat_body(out.head, out.choices, out.usage)))


@router.post("/v1/completions")
async def create_completion(request: Request) -> Response:
    svc: Services = request.app.state.services
    tenant = authenticate(request)
    req = parse_completion(await read_json(request, max_bytes=MAX_GENERATION_BODY_BYTES))
    out = await run_completion(svc, tenant.key, req)
    echo = echoes(req, out.choices)
    if req.stream:
        return _sse(wire.completion_frames(out.head, out.enc, out.choices,
                                           usage=out.usage if req.include_usage else None, echoes=echo,
                                           error=out.stream_error))
    return await cpu(is_heavy(req), lambda: JSONResponse(wire.completion_body(out.head, out.choices, out.usage,
                                                                              echoes=echo)))


def fast_routes() -> list[Route]:
    """The two hot endpoints as plain Starlette routes, which app.create_app puts ahead of every other
    route. The handlers take only the Request, so FastAPI's per-request machinery (dependency solving,
    query parsing, body sniffing) does nothing for them but costs ~20 µs a request; the FastAPI routes
    above stay for the OpenAPI schema. Errors still go through the app's exception handlers."""
    return [Route("/v1/chat/completions", create_chat_completion, methods=["POST"], include_in_schema=False),
            Route("/v1/completions", create_completion, methods=["POST"], include_in_schema=False)]
