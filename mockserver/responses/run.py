"""Generating a Response: over the chat engine's entry point (mockserver.chat.run.run_chat), for
`POST /v1/responses` (mockserver.responses.router) and for the Batch API's `/v1/responses` lines."""

from __future__ import annotations

from sqlmodel import Session

from contracts import errors
from mockserver.chat.run import Outcome, run_chat
from mockserver.responses import engine, store
from mockserver.responses.request import ResponsesRequest, parse_create
from mockserver.services import Services

__all__ = ["input_messages", "generate", "response_body"]


def input_messages(s: Session, tenant: str, req: ResponsesRequest) -> list[dict]:
    """The conversation a request continues: its chain's items (`previous_response_id`), then its own."""
    history: list[dict] = []
    if req.previous_response_id is not None:
        history = store.history(s, tenant=tenant, response_id=req.previous_response_id)
    return engine.to_messages(req.instructions, history, req.items)


def _responses_error(e: errors.APIError, model: str) -> errors.APIError:
    """Chat's wording of an error, as the Responses API words it."""
    if e.code == "context_length_exceeded":
        return errors.BadRequest("Your input exceeds the context window of this model. Please adjust your input "
                                 "and try again.", param="input", code="context_length_exceeded")
    if e.status == 404 and e.message.startswith("This is not a chat model"):   # babbage-002, davinci-002
        return errors.BadRequest(f"The model '{model}' is not supported with the Responses API.", param="model",
                                 code="model_not_supported")
    return e


async def generate(s: Session, svc: Services, tenant: str, req: ResponsesRequest) -> tuple[dict, Outcome]:
    """(the finished Response object, the engine's outcome) for a validated request; nothing stored."""
    gen = engine.gen_request(req, input_messages(s, tenant, req))
    try:
        out = await run_chat(svc, tenant, gen)
    except errors.APIError as e:
        raise _responses_error(e, req.model) from None
    output = engine.output_items(svc, out)
    status = "incomplete" if any(i["status"] == "incomplete" for i in output) else "completed"
    body = engine.response_body(req, response_id=svc.ids.new("response"), created_at=out.head.created,
                                status=status, output=output, usage=engine.usage(out),
                                completed_at=out.head.created)
    return body, out


async def response_body(svc: Services, tenant: str, body: dict) -> dict:
    """What `POST /v1/responses` answers for a non-streaming, foreground request (the Batch API's lines)."""
    req = parse_create(body)
    if req.stream or req.background:
        raise errors.invalid_value("stream" if req.stream else "background", "Streaming and background "
                                   "responses are not supported in the Batch API.")
    with svc.db.session() as s:   # a batch line is not a request: it owns its transaction
        final, _ = await generate(s, svc, tenant, req)
        if req.store:
            store.save(s, tenant=tenant, body=final, items=engine.with_ids(svc, req.items), ready_at=0, final=None)
    return final
