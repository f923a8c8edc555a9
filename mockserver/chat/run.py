"""The chat and completions engines' entry points: a validated request in, the choices and exact usage out.

Used by the /v1/chat/completions and /v1/completions routes and by the Responses and Batch APIs. After body
validation (mockserver.chat.request): model resolution (404 `model_not_found`, also for deleted tuned
models) → endpoint kind (404 with the real "This is not a chat model…" / "This is a chat model…" messages)
→ output cap and context window (400) → fixture errors. What a model says: a matching fixture, else for
tuned models and checkpoints the closest training example (mockserver.chat.answers), else the
deterministic template reply (mockserver.chat.engine).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from contracts import tokens
from mockserver.cache import View
from mockserver.chat import answers, engine, fixtures, wire
from mockserver.chat import state as chat_state
from mockserver.chat.answers import Answer
from mockserver.chat.request import GenRequest, parse_chat, parse_completion
from mockserver.models.store import CallableModel
from mockserver.offload import run_heavy
from mockserver.services import Services

__all__ = ["Outcome", "run_chat", "run_completion", "chat_completion_body", "completion_body", "echoes", "is_heavy",
           "cpu"]


_TIERS = ("flex", "scale", "priority")


_INLINE_INDEX_BYTES = 16 * 1024


async def _index(svc: Services, view: View, model: CallableModel) -> answers.AnswerIndex | None:
    """The model's answer index, built on first use (off the event loop unless the snapshot is small) and
    cached per process."""
    if model.kind == "base" or not model.training_data:
        return None
    path = svc.files.path(model.training_data)
    index = view.get("answers", model.training_data)
    if index is None:
        try:
            size = path.stat().st_size
        except OSError:
            return None
        if size <= _INLINE_INDEX_BYTES:  # a few examples: building costs less than a thread hop
            built = answers.build_index_from_file(path)
        else:  # asyncio's executor reuses its threads; anyio's (run_in_threadpool) ends them with the
            # request's root task, which in the in-process Emulator is every request: a new thread each time
            built = await asyncio.to_thread(answers.build_index_from_file, path)
        index = view.put("answers", model.training_data, built)
    return index


async def _answer(svc: Services, view: View, tenant: str, req: GenRequest, model: CallableModel,
                  system: str | None, question: str) -> tuple[Answer | None, bool, dict | None]:
    """(answer, came from a fixture, error to send mid-stream); raises a fixture's error otherwise."""
    fixture = fixtures.match_fixture(svc, tenant, req.model, question, view)
    if fixture is not None:
        reply = fixture.reply
        if "error" in reply:
            if req.stream and reply["error"].get("during_stream"):
                return None, True, fixtures.error_body(reply["error"])
            raise fixtures.fixture_error(reply["error"])
        if "tool_call" in reply:
            return Answer(None, reply["tool_call"]["name"], reply["tool_call"]["arguments"]), True, None
        return Answer(reply["content"]), True, None
    index = await _index(svc, view, model)
    return (index.lookup(system, question) if index is not None else None), False, None


_LIGHT_TEXT_CHARS = 16 * 1024
T = TypeVar("T")


def is_heavy(req: GenRequest) -> bool:
    """Whether the request's CPU work (tokenizing, schema generation, many choices, rendering) goes to the
    heavy-work pool instead of the event loop (for small requests a thread hop costs more than the work)."""
    if req.response_format is not None or req.tools or req.functions or req.n > 8 or len(req.prompts) > 8:
        return True
    size = sum(len(p) for p in req.prompts)
    for m in req.messages:
        content = m.get("content")
        size += len(content) if isinstance(content, str) else len(str(content or ""))
        if size > _LIGHT_TEXT_CHARS:
            return True
    return size > _LIGHT_TEXT_CHARS


async def cpu(heavy: bool, fn: Callable[..., T], /, *args: Any) -> T:
    """fn(*args) on the heavy-work pool when `heavy`, else right here on the event loop."""
    return await run_heavy(fn, *args) if heavy else fn(*args)


def _output_cap(req: GenRequest, model: CallableModel, prompt_tokens: int) -> None:
    """Without max_tokens a reply still ends where the model's output (or context window) runs out."""
    if req.max_tokens is None:
        req.max_tokens = max(1, min(model.base.max_output_tokens, model.base.context_window - prompt_tokens))


def _head(svc: Services, req: GenRequest, model: CallableModel, created: int, kind: str) -> wire.Head:
    fp = engine.fingerprint(model.base.id) if model.kind == "base" else None
    tier = req.service_tier if req.service_tier in _TIERS else "default"
    return wire.Head(svc.ids.new(kind), created, req.model, fp, tier)


def _chat_choices(svc: Services, enc: object, req: GenRequest, answer: Answer | None, from_fixture: bool,
                  question: str) -> list[engine.Choice]:
    digest = engine.request_digest(req.model, req.messages, req.seed)
    out = []
    for i in range(req.n):
        text = answer.content if answer is not None and answer.content is not None else \
            engine.template_reply(question, digest, i)
        kind, a, b = engine.plan_reply(req, answer, text, question, from_fixture=from_fixture)
        if kind == "content":
            lp_seed = engine.choice_seed(digest, i) if req.logprobs else 0
            out.append(engine.content_choice(enc, a, req, i, lp_seed=lp_seed))
        else:
            call_id = svc.ids.new("call") if kind == "tool" else None
            out.append(engine.call_choice(enc, a, b or "{}", req, i, call_id=call_id,
                                          legacy=kind == "function"))
    return out


@dataclass(slots=True)
class Outcome:
    """What a model says to one generation request: the engine's entry point hands this back."""

    head: wire.Head
    enc: Any
    choices: list[engine.Choice]
    usage: dict
    prompt_tokens: int
    stream_error: dict | None          # a fixture's error to send mid-stream


async def run_chat(svc: Services, tenant_key: str, req: GenRequest) -> Outcome:
    """The chat engine's entry point (also used by the Responses and Batch APIs): a validated request in,
    the choices and exact usage out; raises the real API errors (404 model, 400 limits, fixture errors)."""
    view = svc.caches.view()  # the request's one read of the cache generation
    model, created = chat_state.resolve(svc, tenant_key, req.model, view)
    if model.base.api != "chat":
        raise engine.not_chat_model()
    enc = tokens.get_encoding(model.base.encoding)
    heavy = is_heavy(req)
    prompt_tokens = await cpu(heavy, tokens.count_messages_recipe, tokens.counter(model.base.encoding),
                               req.messages)
    engine.check_chat_limits(model.base, prompt_tokens, req)
    _output_cap(req, model, prompt_tokens)
    system, question = answers.question_of(req.messages)
    answer, from_fixture, stream_error = await _answer(svc, view, tenant_key, req, model, system, question)
    choices = await cpu(heavy, _chat_choices, svc, enc, req, answer, from_fixture, question)
    usage = engine.usage(prompt_tokens, sum(c.completion_tokens for c in choices))
    return Outcome(_head(svc, req, model, created, "chat"), enc, choices, usage, prompt_tokens, stream_error)


async def chat_completion_body(svc: Services, tenant_key: str, body: dict) -> dict:
    """The body `POST /v1/chat/completions` answers for a non-streaming request (the Batch API's lines)."""
    out = await run_chat(svc, tenant_key, parse_chat(body))
    return wire.chat_body(out.head, out.choices, out.usage)


def _completion_choices(enc: object, req: GenRequest, prompt: str, p: int, answer: Answer | None
                        ) -> list[engine.Choice]:
    digest = engine.request_digest(req.model, prompt, req.seed)
    text = None
    if answer is not None:
        text = answer.content if answer.content is not None else answer.tool_arguments
    out = []
    for j in range(req.n):
        lp_seed = engine.choice_seed(digest, j) if req.logprobs else 0
        reply = text if text is not None else engine.template_reply(prompt, digest, j)
        out.append(engine.content_choice(enc, reply, req, p * req.n + j, lp_seed=lp_seed))
    return out


async def run_completion(svc: Services, tenant_key: str, req: GenRequest) -> Outcome:
    """The legacy completions engine's entry point (also used by the Batch API)."""
    view = svc.caches.view()
    model, created = chat_state.resolve(svc, tenant_key, req.model, view)
    if model.base.api != "completions":
        raise engine.chat_only_model()
    enc = tokens.get_encoding(model.base.encoding)
    count = tokens.counter(model.base.encoding)
    heavy = is_heavy(req)
    counts = await cpu(heavy, lambda: [c if c is not None else count(text)
                                        for text, c in zip(req.prompts, req.prompt_token_counts, strict=True)])
    engine.check_completion_limits(model.base, counts, req)
    _output_cap(req, model, max(counts))
    answers_: list[Answer | None] = []
    stream_error = None
    for prompt in req.prompts:
        answer, _, error = await _answer(svc, view, tenant_key, req, model, None, prompt)
        stream_error = stream_error or error
        answers_.append(answer)
    choices = await cpu(heavy, lambda: [c for p, (prompt, answer) in enumerate(zip(req.prompts, answers_, strict=True))
                                         for c in _completion_choices(enc, req, prompt, p, answer)])
    usage = engine.usage(sum(counts), sum(c.completion_tokens for c in choices), detailed=False)
    return Outcome(_head(svc, req, model, created, "completion"), enc, choices, usage, sum(counts), stream_error)


def echoes(req: GenRequest, choices: list[engine.Choice]) -> list[str] | None:
    return [req.prompts[c.index // req.n] for c in choices] if req.echo else None


async def completion_body(svc: Services, tenant_key: str, body: dict) -> dict:
    """The body `POST /v1/completions` answers for a non-streaming request (the Batch API's lines)."""
    req = parse_completion(body)
    out = await run_completion(svc, tenant_key, req)
    return wire.completion_body(out.head, out.choices, out.usage, echoes=echoes(req, out.choices))
