"""Wire shapes of chat and legacy completions: response bodies and the SSE frames of their streams.

Chat stream (reference §9): per choice a first chunk with delta {"role": "assistant", "content": "",
"refusal": null} (for calls: content null and the call's id, type, name with empty arguments), then one
chunk per token-sized piece (token bytes are decoded incrementally, so a character split across tokens is
sent once it is complete), then a chunk with delta {} and the finish_reason; with include_usage a last
chunk with "choices": [] and the usage; every other chunk has "usage": null; then `data: [DONE]`.
Legacy completions stream the same way with "text" pieces and no role chunk.
"""

from __future__ import annotations

import codecs
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import orjson

from mockserver.chat.engine import Choice, legacy_logprobs

__all__ = ["Head", "chat_body", "chat_frames", "completion_body", "completion_frames", "token_pieces",
           "frame", "error_frame", "DONE"]

DONE = b"data: [DONE]\n\n"


@dataclass(frozen=True, slots=True)
class Head:
    """The fields every body and chunk of one response shares."""

    id: str
    created: int
    model: str
    system_fingerprint: str | None
    service_tier: str


def frame(obj: Any) -> bytes:
    return b"data: " + orjson.dumps(obj) + b"\n\n"


def error_frame(error: dict) -> bytes:
    """How the real API reports an error after a stream has started (HTTP status stays 200)."""
    return frame({"error": error})


def token_pieces(enc: Any, ids: list[int]) -> list[tuple[str, list[int]]]:
    """(text, token positions) per streamed piece; pieces join to the decoded text exactly."""
    decoder = codecs.getincrementaldecoder("utf-8")("ignore")
    out: list[tuple[str, list[int]]] = []
    pending: list[int] = []
    for pos, b in enumerate(enc.decode_tokens_bytes(ids)):
        pending.append(pos)
        text = decoder.decode(b)
        if text:
            out.append((text, pending))
            pending = []
    tail = decoder.decode(b"", final=True)
    if tail or (pending and not out):
        out.append((tail, pending))
    elif pending:
        out[-1][1].extend(pending)
    return out


# --- chat -------------------------------------------------------------------------------------------------


def _call_wire(c: Choice) -> dict:
    call = c.call or {}
    if c.legacy_function:
        return {"name": call["name"], "arguments": call["arguments"]}
    fn = {"name": call["name"], "arguments": call["arguments"]}
    return {"id": call["id"], "type": "function", "function": fn}


def _message(c: Choice) -> dict:
    msg: dict[str, Any] = {"role": "assistant", "content": c.text, "refusal": None, "annotations": []}
    if c.call is not None:
        msg["function_call" if c.legacy_function else "tool_calls"] = (
            _call_wire(c) if c.legacy_function else [_call_wire(c)])
    return msg


def _lp(entries: list[dict] | None) -> dict | None:
    return None if entries is None else {"content": entries, "refusal": None}


def chat_body(head: Head, choices: list[Choice], usage: dict) -> dict:
    return {"id": head.id, "object": "chat.completion", "created": head.created, "model": head.model,
            "choices": [{"index": c.index, "message": _message(c), "logprobs": _lp(c.logprobs),
                         "finish_reason": c.finish_reason} for c in choices],
            "usage": usage, "service_tier": head.service_tier, "system_fingerprint": head.system_fingerprint}


def _chat_chunk(head: Head, choices: list[dict], usage: dict | None = None) -> bytes:
    return frame({"id": head.id, "object": "chat.completion.chunk", "created": head.created,
                  "model": head.model, "service_tier": head.service_tier,
                  "system_fingerprint": head.system_fingerprint, "choices": choices, "usage": usage})


def _first_delta(c: Choice) -> dict:
    if c.call is None:
        return {"role": "assistant", "content": "", "refusal": None}
    call = c.call
    if c.legacy_function:
        return {"role": "assistant", "content": None, "refusal": None,
                "function_call": {"name": call["name"], "arguments": ""}}
    fn = {"name": call["name"], "arguments": ""}
    return {"role": "assistant", "content": None, "refusal": None,
            "tool_calls": [{"index": 0, "id": call["id"], "type": "function", "function": fn}]}


def _piece_delta(c: Choice, text: str) -> dict:
    if c.call is None:
        return {"content": text}
    if c.legacy_function:
        return {"function_call": {"arguments": text}}
    return {"tool_calls": [{"index": 0, "function": {"arguments": text}}]}


def chat_frames(head: Head, enc: Any, choices: list[Choice], *, usage: dict | None,
                error: dict | None = None) -> Iterator[bytes]:
    """The SSE frames of a chat stream; `usage` given → the include_usage chunk; `error` → cut short by it."""
    for c in choices:
        yield _chat_chunk(head, [{"index": c.index, "delta": _first_delta(c), "logprobs": None,
                                  "finish_reason": None}])
        if error is not None:
            yield error_frame(error)
            return
        for text, positions in token_pieces(enc, c.ids):
            lp = None
            if c.call is None and c.logprobs is not None:
                lp = _lp([c.logprobs[p] for p in positions])
            yield _chat_chunk(head, [{"index": c.index, "delta": _piece_delta(c, text), "logprobs": lp,
                                      "finish_reason": None}])
        yield _chat_chunk(head, [{"index": c.index, "delta": {}, "logprobs": None,
                                  "finish_reason": c.finish_reason}])
    if usage is not None:
        yield _chat_chunk(head, [], usage)
    yield DONE


# --- legacy completions -------------------------------------------------------------------------------------


def completion_body(head: Head, choices: list[Choice], usage: dict, *,
                    echoes: list[str] | None = None) -> dict:
    out = []
    for c in choices:
        prefix = echoes[c.index] if echoes else ""
        lp = legacy_logprobs(c.logprobs, len(prefix)) if c.logprobs is not None else None
        out.append({"text": prefix + (c.text or ""), "index": c.index, "logprobs": lp,
                    "finish_reason": c.finish_reason})
    return {"id": head.id, "object": "text_completion", "created": head.created, "model": head.model,
            "choices": out, "usage": usage}


def _text_chunk(head: Head, choices: list[dict], usage: dict | None, with_usage: bool) -> bytes:
    chunk = {"id": head.id, "object": "text_completion", "created": head.created, "model": head.model,
             "choices": choices}
    if with_usage:
        chunk["usage"] = usage
    return frame(chunk)


def completion_frames(head: Head, enc: Any, choices: list[Choice], *, usage: dict | None,
                      echoes: list[str] | None = None, error: dict | None = None) -> Iterator[bytes]:
    """The SSE frames of a legacy completions stream."""
    with_usage = usage is not None
    for c in choices:
        if error is not None:
            yield error_frame(error)
            return
        offset = 0
        if echoes and echoes[c.index]:
            offset = len(echoes[c.index])
            yield _text_chunk(head, [{"text": echoes[c.index], "index": c.index, "logprobs": None,
                                      "finish_reason": None}], None, with_usage)
        for text, positions in token_pieces(enc, c.ids):
            lp = None
            if c.logprobs is not None:
                lp = legacy_logprobs([c.logprobs[p] for p in positions], offset)
            offset += len(text)
            yield _text_chunk(head, [{"text": text, "index": c.index, "logprobs": lp, "finish_reason": None}],
                              None, with_usage)
        yield _text_chunk(head, [{"text": "", "index": c.index, "logprobs": None,
                                  "finish_reason": c.finish_reason}], None, with_usage)
    if usage is not None:
        yield _text_chunk(head, [], usage, True)
    yield DONE
