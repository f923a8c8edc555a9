"""The chat and completions engines' entry points: a validated request in, the choices and exact usage out.

Used by the /v1/chat/completions and /v1/completions routes and by the Responses and Batch APIs. After body
validation (mockserver.chat.request): model resolution (404 `model_not_found`, also for deleted tuned
models) → endpoint kind (404 with the real "This is not a chat model…" / "This is a chat model…" messages)
→ output cap and context window (400) → fixture errors. What a model says: a matching fixture, else the
answer engine's reply (mockserver.chat.answer_engine.respond: a tuned model's trained answer for the
closest training example, or a reply composed in its data's style; a base model's reply in the prompt's
language).
"""

from __future__ import annotations

import asyncio
import hashlib
import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from contracts import tokens
from mockserver.cache import View
from mockserver.chat import answer_engine, answers, engine, fixtures, wire
from mockserver.chat import state as chat_state
from mockserver.chat.answers import Answer, Conversation
from mockserver.chat.capabilities import check_model_support
from mockserver.chat.request import GenRequest, parse_chat, parse_completion
from mockserver.models.store import CallableModel
from mockserver.offload import run_heavy, sliced
from mockserver.services import Services

__all__ = ["Outcome", "run_chat", "run_completion", "chat_completion_body", "completion_body", "echoes", "is_heavy",
           "cpu"]


_TIERS = ("flex", "scale", "priority")


_INLINE_INDEX_BYTES = 16 * 1024


async def _index(svc: Services, view: View, model: CallableModel) -> answers.AnswerIndex | None:
    """The model's answer index, built on first use (off the event loop unless the snapshot is small) and
    cached per process: a small snapshot under the digest of its bytes (the index is a function of them, so
    models trained on the same data — a test suite uploading one fixture file per test — share one), a
    larger one under its key."""
    if model.kind == "base" or not model.training_data:
        return None
    index = view.get("answers", model.training_data)
    if index is None:
        stat = svc.files.stat(model.training_data)
        if stat is None:
            return None
        if stat[0] <= _INLINE_INDEX_BYTES:  # a few examples: reading and building cost less than a thread hop
            try:
                with svc.files.open(model.training_data) as f:
                    data = f.read()
            except FileNotFoundError:
                return None
            digest = ("bytes", hashlib.sha256(data).digest())
            index = view.get("answers", digest) or view.put("answers", digest,
                                                             answers.build_index(io.BytesIO(data)))
        else:  # asyncio's executor reuses its threads; anyio's (run_in_threadpool) ends them with the
            # request's root task, which in the in-process Emulator is every request: a new thread each time
            index = await asyncio.to_thread(_build_index, svc, model.training_data)
        view.put("answers", model.training_data, index)
    return index


def _build_index(svc: Services, blob_key: str) -> answers.AnswerIndex:
    with svc.files.open(blob_key) as f:
        return answers.build_index(f)


def _fixture(svc: Services, view: View, tenant: str, req: GenRequest, question: str
             ) -> tuple[Answer | None, dict | None]:
    """(a matching fixture's answer, error to send mid-stream); raises a fixture's error otherwise."""
    fixture = fixtures.match_fixture(svc, tenant, req.model, question, view)
    if fixture is None:
        return None, None
    reply = fixture.reply
    if "error" in reply:
        if req.stream and reply["error"].get("during_stream"):
            return None, fixtures.error_body(reply["error"])
        raise fixtures.fixture_error(reply["error"])
    if "tool_call" in reply:
        return Answer(None, reply["tool_call"]["name"], reply["tool_call"]["arguments"]), None
    return Answer(reply["content"]), None


def _fidelity(svc: Services, view: View, tenant: str, model: CallableModel) -> answer_engine.Fidelity:
    if model.kind == "base" or chat_state.answer_fidelity(svc, tenant, view) != "epochs":
        return answer_engine.EXACT
    return answer_engine.Fidelity("epochs", model.epochs, model.n_examples)


class _Answerer:
    """The replies of one request: a fixture's for every choice, else the answer engine's per choice."""

    def __init__(self, index: answers.AnswerIndex | None, fixture: Answer | None,
                 fidelity: answer_engine.Fidelity, request_seed: int | None) -> None:
        self.index, self.fixture, self.fidelity, self.request_seed = index, fixture, fidelity, request_seed

    def reply(self, conv: Conversation, seed: int) -> tuple[Answer, str]:
        """(the answer, a text for it) of one choice."""
        if self.fixture is not None:
            text = self.fixture.content if self.fixture.content is not None else \
                answer_engine.respond(None, conv, seed=seed).text
            return self.fixture, text
        r = answer_engine.respond(self.index, conv, seed=seed, fidelity=self.fidelity,
                                  request_seed=self.request_seed)
        return r.answer, r.text


async def _answerer(svc: Services, view: View, tenant: str, req: GenRequest, model: CallableModel,
                    question: str) -> tuple[_Answerer, dict | None]:
    fixture, stream_error = _fixture(svc, view, tenant, req, question)
    index = None
    if fixture is None and stream_error is None and model.kind != "base" and model.training_data:
        index = await _index(svc, view, model)
    return _Answerer(index, fixture, _fidelity(svc, view, tenant, model), req.seed), stream_error


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


def _chat_choices(svc: Services, enc: object, req: GenRequest, answerer: _Answerer, conv: Conversation
                  ) -> list[engine.Choice]:
    digest = engine.request_digest(req.model, req.messages, req.seed)
    out = []
    for i in range(req.n):
        seed = engine.choice_seed(digest, i)
        answer, text = answerer.reply(conv, seed)
        kind, a, b = engine.plan_reply(req, answer, text, conv, from_fixture=answerer.fixture is not None)
        if kind == "content":
            out.append(engine.content_choice(enc, a, req, i, lp_seed=seed if req.logprobs else 0))
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
    heavy: bool = False                # is_heavy(request): render the body on the heavy-work pool too


async def run_chat(svc: Services, tenant_key: str, req: GenRequest) -> Outcome:
    """The chat engine's entry point (also used by the Responses and Batch APIs): a validated request in,
    the choices and exact usage out; raises the real API errors (404 model, 400 limits, fixture errors)."""
    view = svc.caches.view()  # the request's one read of the cache generation
    model, created = chat_state.resolve(svc, tenant_key, req.model, view)
    if model.base.api != "chat":
        raise engine.not_chat_model()
    check_model_support(model.base, req.extras, n=req.n, logprobs=req.logprobs,
                        tools=bool(req.tools or req.functions))
    enc = tokens.get_encoding(model.base.encoding)
    heavy = is_heavy(req)
    count = tokens.counter(model.base.encoding)
    if heavy:   # the light path calls straight through (each `await cpu(...)` would be one more coroutine)
        prompt_tokens = await run_heavy(tokens.count_messages_recipe, sliced(count), req.messages)
    else:
        prompt_tokens = tokens.count_messages_recipe(count, req.messages)
    engine.check_chat_limits(model.base, prompt_tokens, req)
    _output_cap(req, model, prompt_tokens)
    conv = Conversation.of(req.messages)
    answerer, stream_error = await _answerer(svc, view, tenant_key, req, model, conv.question)
    if heavy:
        choices = await run_heavy(_chat_choices, svc, enc, req, answerer, conv)
    else:
        choices = _chat_choices(svc, enc, req, answerer, conv)
    usage = engine.usage(prompt_tokens, sum(c.completion_tokens for c in choices))
    return Outcome(_head(svc, req, model, created, "chat"), enc, choices, usage, prompt_tokens, stream_error, heavy)


async def chat_completion_body(svc: Services, tenant_key: str, body: dict) -> dict:
    """The body `POST /v1/chat/completions` answers for a non-streaming request (the Batch API's lines)."""
    out = await run_chat(svc, tenant_key, parse_chat(body))
    return wire.chat_body(out.head, out.choices, out.usage)


def _completion_choices(enc: object, req: GenRequest, prompt: str, p: int, answerer: _Answerer
                        ) -> list[engine.Choice]:
    digest = engine.request_digest(req.model, prompt, req.seed)
    conv = Conversation(None, prompt)
    out = []
    for j in range(req.n):
        seed = engine.choice_seed(digest, j)
        answer, text = answerer.reply(conv, seed)
        if answer.content is None and answer.tool_arguments is not None:
            text = answer.tool_arguments
        out.append(engine.content_choice(enc, text, req, p * req.n + j, lp_seed=seed if req.logprobs else 0))
    return out


async def run_completion(svc: Services, tenant_key: str, req: GenRequest) -> Outcome:
    """The legacy completions engine's entry point (also used by the Batch API)."""
    view = svc.caches.view()
    model, created = chat_state.resolve(svc, tenant_key, req.model, view)
    if model.base.api != "completions":
        raise engine.chat_only_model()
    enc = tokens.get_encoding(model.base.encoding)
    heavy = is_heavy(req)
    count = sliced(tokens.counter(model.base.encoding)) if heavy else tokens.counter(model.base.encoding)
    counts = await cpu(heavy, lambda: [c if c is not None else count(text)
                                        for text, c in zip(req.prompts, req.prompt_token_counts, strict=True)])
    engine.check_completion_limits(model.base, counts, req)
    _output_cap(req, model, max(counts))
    answerers: list[_Answerer] = []
    stream_error = None
    for prompt in req.prompts:
        answerer, error = await _answerer(svc, view, tenant_key, req, model, prompt)
        stream_error = stream_error or error
        answerers.append(answerer)
    choices = await cpu(heavy, lambda: [c for p, (prompt, answerer) in enumerate(zip(req.prompts, answerers, strict=True))
                                         for c in _completion_choices(enc, req, prompt, p, answerer)])
    usage = engine.usage(sum(counts), sum(c.completion_tokens for c in choices), detailed=False)
    return Outcome(_head(svc, req, model, created, "completion"), enc, choices, usage, sum(counts), stream_error,
                   heavy)


def echoes(req: GenRequest, choices: list[engine.Choice]) -> list[str] | None:
    return [req.prompts[c.index // req.n] for c in choices] if req.echo else None


async def completion_body(svc: Services, tenant_key: str, body: dict) -> dict:
    """The body `POST /v1/completions` answers for a non-streaming request (the Batch API's lines)."""
    req = parse_completion(body)
    out = await run_completion(svc, tenant_key, req)
    return wire.completion_body(out.head, out.choices, out.usage, echoes=echoes(req, out.choices))
