"""`POST /v1/chat/completions` and `POST /v1/completions`: authentication (deps.authenticate) → body
validation (hand-written, see mockserver.chat.request) → the engine (mockserver.chat.run) → JSON or SSE."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from contracts.limits import MAX_GENERATION_BODY_BYTES
from mockserver.chat import wire
from mockserver.chat.request import parse_chat, parse_completion
from mockserver.chat.run import cpu, echoes, run_chat, run_completion
from mockserver.deps import authenticate
from mockserver.hot import Endpoint
from mockserver.http import JSONResponse, read_unread_json
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
    req = parse_chat(await read_unread_json(request, max_bytes=MAX_GENERATION_BODY_BYTES))
    out = await run_chat(svc, tenant.key, req)
    if req.stream:
        return _sse(wire.chat_frames(out.head, out.enc, out.choices,
                                     usage=out.usage if req.include_usage else None, error=out.stream_error))
    if not out.heavy:
        return JSONResponse(wire.chat_body(out.head, out.choices, out.usage))
    return await cpu(True, lambda: JSONResponse(wire.chat_body(out.head, out.choices, out.usage)))


@router.post("/v1/completions")
async def create_completion(request: Request) -> Response:
    svc: Services = request.app.state.services
    tenant = authenticate(request)
    req = parse_completion(await read_unread_json(request, max_bytes=MAX_GENERATION_BODY_BYTES))
    out = await run_completion(svc, tenant.key, req)
    echo = echoes(req, out.choices)
    if req.stream:
        return _sse(wire.completion_frames(out.head, out.enc, out.choices,
                                           usage=out.usage if req.include_usage else None, echoes=echo,
                                           error=out.stream_error))
    return await cpu(out.heavy, lambda: JSONResponse(wire.completion_body(out.head, out.choices, out.usage,
                                                                              echoes=echo)))


def hot_routes() -> dict[str, Endpoint]:
    """The two hot endpoints, which mockserver.hot serves ahead of the app's middleware stack and routing
    (the handlers take only the Request, so FastAPI's per-request machinery would do nothing for them);
    the FastAPI routes above stay for the OpenAPI schema and serve the requests the hot path passes on."""
    return {"/v1/chat/completions": create_chat_completion, "/v1/completions": create_completion}
