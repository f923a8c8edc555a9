"""Helpers of the contract suite: conformance assertions, the independent token recipe, SSE parsing."""

from __future__ import annotations

import json
from typing import Any

import quicktok

from contracts import conformance
from contracts.catalog import encoding_for

__all__ = ["conforms", "error_of", "recipe_tokens", "text_tokens", "sse_events", "pig_jsonl"]


def conforms(kind: str, payload: Any) -> None:
    """Assert `payload` is exactly what the real API sends for `kind` (spec + SDK model)."""
    problems = conformance.check(kind, payload)
    assert problems == [], f"{kind} does not conform:\n  " + "\n  ".join(problems)


def error_of(status_and_body: tuple[int, Any], status: int) -> dict:
    """The error object of a raw (status, json) answer, after checking the status and the envelope."""
    got, body = status_and_body
    assert got == status, body
    conforms("error", body)
    assert set(body["error"]) >= {"message", "type", "param", "code"}
    return body["error"]


def recipe_tokens(model: str, messages: list[dict[str, Any]]) -> int:
    """The cookbook recipe counted with quicktok (not tiktoken): 3 per message + every string value + 1 per
    `name` + 3 for the reply priming."""
    enc = quicktok.get_encoding(encoding_for(model))
    total = 3
    for m in messages:
        total += 3 + sum(len(enc.encode_ordinary(v)) for v in m.values() if isinstance(v, str)) + ("name" in m)
    return total


def text_tokens(model: str, text: str) -> int:
    return len(quicktok.get_encoding(encoding_for(model)).encode_ordinary(text))


def sse_events(body: bytes) -> list[Any]:
    """The `data:` payloads of a text/event-stream body, JSON-decoded, `[DONE]` kept as the string."""
    out: list[Any] = []
    for block in body.decode().split("\n\n"):
        for line in block.splitlines():
            if line.startswith("data:"):
                data = line[5:].strip()
                out.append(data if data == "[DONE]" else json.loads(data))
    return out


def pig_jsonl(n: int = 10) -> bytes:
    """The seed pig examples (tests/conftest.py), `n` of them."""
    from tests.conftest import pig_jsonl as make

    return make(n)
