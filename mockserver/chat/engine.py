"""Deterministic generation for chat and legacy completions: replies, options, limits, usage, logprobs.

Pure logic: no FastAPI, no database. The router supplies the request (`chat_request.GenRequest`), the
tokenizer, the trained/fixture answer if any, and an id factory; this module decides what each choice
says and how it ends.

What the model says comes from mockserver.chat.answer_engine (the router calls it per choice with
`choice_seed(request_digest(model, messages or prompt, seed), index)`: same request and seed → same reply;
another seed or choice index may differ). `template_reply` is a base model's reply (language.base_reply).

Options, in the order they apply to a content reply: response_format (json_object → the reply if it
already is a JSON object, else {"answer": reply}; json_schema → the reply if it is JSON valid for the
schema, else `json_schema.generate(schema, reply, conversation)`), then `stop` (cut before the earliest stop sequence,
finish_reason "stop"), then the token cap (the reply is encoded once; more ids than max_tokens /
max_completion_tokens → the first N ids decoded, finish_reason "length"). Tool calls: tool_choice
"required" (the tool named in the question, else the first) or a named function forces a call whose
arguments are generated from the function's `parameters` and the conversation (a city named in the message
becomes `city`, see mockserver.chat.json_schema); "auto" calls a tool only when the fixture or
the training example says so.
"""

from __future__ import annotations

import functools
import hashlib
import random
from dataclasses import dataclass, field
from typing import Any

import orjson

from contracts import errors, tokens
from contracts.catalog import BaseModel
from mockserver.chat import json_schema, language
from mockserver.chat.answers import Answer, Conversation
from mockserver.chat.request import GenRequest

__all__ = ["TEMPLATES", "GREETINGS", "Choice", "request_digest", "choice_seed", "template_reply",
           "fingerprint", "apply_stop", "plan_reply", "shape_content", "content_choice", "call_choice",
           "logprob_entries", "legacy_logprobs", "check_chat_limits", "check_completion_limits", "usage",
           "not_chat_model", "chat_only_model"]

TEMPLATES = language.REPLIES["en"]
GREETINGS = language.GREETINGS["en"]
_ALT_STRIDE = 7919   # alternative top_logprobs tokens: id + k·stride (mod 100000: valid in both encodings)


@dataclass(slots=True)
class Choice:
    """One generated choice. For calls, `ids` are the argument tokens and `text` is None."""

    index: int
    text: str | None
    ids: list[int]
    finish_reason: str
    completion_tokens: int
    call: dict | None = None              # {"id"?, "name", "arguments"}
    legacy_function: bool = False         # answer as message.function_call instead of tool_calls
    logprobs: list[dict] | None = field(default=None)


# --- seeds and templates --------------------------------------------------------------------------------


def request_digest(model: str, payload: Any, seed: int | None) -> bytes:
    """A digest of what determines a reply: the model, the messages (or prompt) and the seed."""
    data = orjson.dumps([model, payload, seed], option=orjson.OPT_SORT_KEYS)
    return hashlib.blake2b(data, digest_size=16).digest()


def choice_seed(digest: bytes, index: int) -> int:
    return int.from_bytes(hashlib.blake2b(digest + index.to_bytes(4, "big"), digest_size=8).digest(), "big")


def template_reply(question: str, digest: bytes, index: int) -> str:
    """The deterministic reply of a base model, in the language of the question."""
    return language.base_reply(question, choice_seed(digest, index))


@functools.lru_cache(maxsize=256)
def fingerprint(model: str) -> str:
    """`fp_` + 10 hex digits, fixed per base model."""
    return "fp_" + hashlib.blake2b(model.encode(), digest_size=5).hexdigest()


# --- deciding what a choice is -------------------------------------------------------------------------


def _function_tools(req: GenRequest) -> dict[str, dict]:
    return {t["function"]["name"]: t["function"] for t in req.tools if t.get("type") == "function"}


def _pick_tool(names: list[str], question: str) -> str:
    q = question.casefold()
    for name in names:
        if name.casefold() in q or name.replace("_", " ").casefold() in q:
            return name
    return names[0]


def _arguments(fn: dict, text: str, conv: Conversation) -> str:
    schema = fn.get("parameters") or {"type": "object", "properties": {}}
    try:
        value = json_schema.generate(schema, text, conv)
    except json_schema.SchemaError as e:
        raise errors.invalid_value("tools", f"Invalid schema for function '{fn.get('name')}': {e}.") from None
    return orjson.dumps(value).decode()


def plan_reply(req: GenRequest, answer: Answer | None, text: str, conv: Conversation, *,
               from_fixture: bool = False) -> tuple[str, str, str | None]:
    """("content", text, None), ("tool", name, arguments) or ("function", name, arguments)."""
    tools, choice = _function_tools(req), req.tool_choice
    named = choice[choice["type"]]["name"] if isinstance(choice, dict) else None
    trained_call = answer is not None and answer.tool_name is not None
    if trained_call and (from_fixture or (tools and answer.tool_name in tools)) and choice != "none" \
            and named in (None, answer.tool_name):
        return "tool", answer.tool_name, answer.tool_arguments or "{}"
    if tools and (named in tools or choice == "required"):
        name = named if named in tools else _pick_tool(list(tools), conv.question)
        return "tool", name, _arguments(tools[name], text, conv)
    if req.functions and isinstance(req.function_call, dict):
        fn = next(f for f in req.functions if f["name"] == req.function_call["name"])
        return "function", fn["name"], _arguments(fn, text, conv)
    if req.functions and trained_call and req.function_call != "none" \
            and answer.tool_name in {f["name"] for f in req.functions}:
        return "function", answer.tool_name, answer.tool_arguments or "{}"
    return "content", shape_content(text, req.response_format, conv), None


def shape_content(text: str, response_format: dict | None, conv: Conversation | None = None) -> str:
    """The reply under response_format: unchanged for text, a JSON text for json_object / json_schema."""
    if response_format is None:
        return text
    try:
        parsed = orjson.loads(text)
    except orjson.JSONDecodeError:
        parsed = _NOT_JSON
    if response_format["type"] == "json_object":
        return text if isinstance(parsed, dict) else orjson.dumps({"answer": text}).decode()
    spec = response_format["json_schema"]
    schema = spec.get("schema") or {"type": "object", "properties": {}}
    try:
        if parsed is not _NOT_JSON and not json_schema.validate(parsed, schema):
            return text
        return orjson.dumps(json_schema.generate(schema, text, conv)).decode()
    except json_schema.SchemaError as e:
        raise errors.invalid_value("response_format", f"Invalid schema for response_format '{spec['name']}': "
                                   f"{e}.") from None


_NOT_JSON = object()


# --- building choices ------------------------------------------------------------------------------------


def apply_stop(text: str, stops: list[str]) -> str:
    """The text before the earliest stop sequence (the stop text itself is not included)."""
    cut = len(text)
    for s in stops:
        at = text.find(s)
        if at != -1 and at < cut:
            cut = at
    return text[:cut]


def content_choice(enc: Any, text: str, req: GenRequest, index: int, *, lp_seed: int = 0) -> Choice:
    """A text choice with stop and token cap applied; the reply is encoded at most once, and only counted
    (tokens.counter, exact) when no token ids are needed: not streamed, no logprobs, under the cap."""
    text = apply_stop(text, req.stop)
    if not req.stream and not req.logprobs:
        n = tokens.counter(enc.name)(text)
        if req.max_tokens is None or n <= req.max_tokens:
            return Choice(index, text, [], "stop", n)
    ids = enc.encode_ordinary(text)
    finish = "stop"
    if req.max_tokens is not None and len(ids) > req.max_tokens:
        ids = ids[:req.max_tokens]
        text = enc.decode_bytes(ids).decode("utf-8", "ignore")
        finish = "length"
    choice = Choice(index, text, ids, finish, len(ids))
    if req.logprobs:
        choice.logprobs = logprob_entries(enc, ids, lp_seed, req.top_logprobs)
    return choice


def call_choice(enc: Any, name: str, arguments: str, req: GenRequest, index: int, *,
                call_id: str | None, legacy: bool = False) -> Choice:
    """A tool (or legacy function) call; it counts the tokens of name + arguments."""
    name_tokens = len(enc.encode_ordinary(name))
    ids = enc.encode_ordinary(arguments)
    finish = "function_call" if legacy else "tool_calls"
    if req.max_tokens is not None and name_tokens + len(ids) > req.max_tokens:
        ids = ids[:max(0, req.max_tokens - name_tokens)]
        arguments = enc.decode_bytes(ids).decode("utf-8", "ignore")
        finish = "length"
    call = {"id": call_id, "name": name, "arguments": arguments}
    choice = Choice(index, None, ids, finish, name_tokens + len(ids), call=call, legacy_function=legacy)
    if req.logprobs:
        choice.logprobs = []
    return choice


def _token_text(b: bytes) -> str:
    try:
        return b.decode("utf-8")
    except UnicodeDecodeError:
        return "bytes:" + "".join(f"\\x{x:02x}" for x in b)


def logprob_entries(enc: Any, ids: list[int], seed: int, top_n: int) -> list[dict]:
    """Per-token logprobs ({token, logprob <= 0, bytes, top_logprobs}), deterministic for the seed."""
    rng = random.Random(seed)
    out = []
    for tid, b in zip(ids, enc.decode_tokens_bytes(ids), strict=True):
        lp = round(-rng.random() * 0.5, 6) or 0.0
        token, raw = _token_text(b), list(b)
        tops = []
        if top_n:
            tops.append({"token": token, "logprob": lp, "bytes": raw})
            for k in range(1, top_n):
                alt = enc.decode_single_token_bytes((tid + _ALT_STRIDE * k) % 100000)
                tops.append({"token": _token_text(alt), "logprob": round(lp - k - rng.random(), 6),
                             "bytes": list(alt)})
        out.append({"token": token, "logprob": lp, "bytes": raw, "top_logprobs": tops})
    return out


def legacy_logprobs(entries: list[dict], offset: int = 0) -> dict:
    """/v1/completions logprobs: tokens, token_logprobs, top_logprobs (token → logprob), text_offset."""
    offsets, at = [], offset
    for e in entries:
        offsets.append(at)
        at += len(e["token"])
    return {"tokens": [e["token"] for e in entries], "token_logprobs": [e["logprob"] for e in entries],
            "top_logprobs": [{t["token"]: t["logprob"] for t in e["top_logprobs"]} for e in entries],
            "text_offset": offsets}


# --- limits and usage ---------------------------------------------------------------------------------------


def _too_large(req: GenRequest, base: BaseModel) -> None:
    n, m = req.max_tokens, base.max_output_tokens
    if n is not None and n > m:
        raise errors.invalid_value(req.max_param, f"{req.max_param} is too large: {n}. This model supports "
                                   f"at most {m} completion tokens, whereas you provided {n}.")


def check_chat_limits(base: BaseModel, prompt_tokens: int, req: GenRequest) -> None:
    """400 when the output cap or the context window is exceeded (param `max_tokens` / `messages`)."""
    _too_large(req, base)
    ctx = base.context_window
    if req.max_tokens is not None and prompt_tokens + req.max_tokens > ctx:
        total = prompt_tokens + req.max_tokens
        raise errors.BadRequest(
            f"This model's maximum context length is {ctx} tokens. However, you requested {total} tokens "
            f"({prompt_tokens} in the messages, {req.max_tokens} in the completion). Please reduce the "
            "length of the messages or completion.", param="messages", code="context_length_exceeded")
    if prompt_tokens > ctx:
        raise errors.BadRequest(
            f"This model's maximum context length is {ctx} tokens. However, your messages resulted in "
            f"{prompt_tokens} tokens. Please reduce the length of the messages.", param="messages",
            code="context_length_exceeded")


def check_completion_limits(base: BaseModel, prompt_tokens: list[int], req: GenRequest) -> None:
    """The legacy endpoint's wording, per prompt (param `prompt`)."""
    _too_large(req, base)
    ctx, want = base.context_window, req.max_tokens or 0
    for p in prompt_tokens:
        if p + want > ctx:
            raise errors.BadRequest(
                f"This model's maximum context length is {ctx} tokens, however you requested {p + want} "
                f"tokens ({p} in your prompt; {want} for the completion). Please reduce your prompt; or "
                "completion length.", param="prompt", code="context_length_exceeded")


def usage(prompt_tokens: int, completion_tokens: int, *, detailed: bool = True) -> dict:
    out: dict[str, Any] = {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                           "total_tokens": prompt_tokens + completion_tokens}
    if detailed:
        out["prompt_tokens_details"] = {"cached_tokens": 0, "audio_tokens": 0}
        out["completion_tokens_details"] = {"reasoning_tokens": 0, "audio_tokens": 0,
                                            "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0}
    return out


# --- wrong endpoint ----------------------------------------------------------------------------------------


def not_chat_model() -> errors.NotFound:
    """A completions-only model (babbage-002, davinci-002, their ft:) on /v1/chat/completions: real 404."""
    return errors.NotFound("This is not a chat model and thus not supported in the v1/chat/completions "
                           "endpoint. Did you mean to use v1/completions?", param="model")


def chat_only_model() -> errors.NotFound:
    """A chat model on /v1/completions: the real 404."""
    return errors.NotFound("This is a chat model and not supported in the v1/completions endpoint. Did you "
                           "mean to use v1/chat/completions?", param="model")
