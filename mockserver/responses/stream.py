"""The SSE events of a streamed response, derived from the finished Response object.

Sequence (as the real API sends it; `sequence_number` counts from 0): `response.created` and
`response.in_progress` (status `in_progress`, no output, no usage); per output item
`response.output_item.added` (message without content / call without arguments), for a message
`response.content_part.added`, one `response.output_text.delta` per token-sized piece (a character split
across tokens is sent once complete), `response.output_text.done`, `response.content_part.done`; for a
function call `response.function_call_arguments.delta` pieces and `.done`; then `response.output_item.done`;
last `response.completed` (or `response.incomplete`) with the whole response. Each frame is
`event: <type>\\ndata: <json>\\n\\n`; there is no `[DONE]`. A fixture error `during_stream` ends the stream
with an `error` event after `response.in_progress`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson

from mockserver.chat.wire import token_pieces

__all__ = ["events", "frame"]


def frame(event: dict) -> bytes:
    return b"event: " + event["type"].encode() + b"\ndata: " + orjson.dumps(event) + b"\n\n"


def _pieces(enc: Any, text: str) -> list[str]:
    return [t for t, _ in token_pieces(enc, enc.encode_ordinary(text))] if text else []


def _item_events(enc: Any, i: int, item: dict) -> Iterator[dict]:
    ref = {"item_id": item["id"], "output_index": i}
    if item["type"] == "message":
        yield {"type": "response.output_item.added", "output_index": i,
               "item": {**item, "status": "in_progress", "content": []}}
        for j, part in enumerate(item["content"]):
            empty = {**part, "text": ""}
            yield {"type": "response.content_part.added", **ref, "content_index": j, "part": empty}
            for piece in _pieces(enc, part["text"]):
                yield {"type": "response.output_text.delta", **ref, "content_index": j, "delta": piece,
                       "logprobs": []}
            yield {"type": "response.output_text.done", **ref, "content_index": j, "text": part["text"],
                   "logprobs": []}
            yield {"type": "response.content_part.done", **ref, "content_index": j, "part": part}
    else:
        yield {"type": "response.output_item.added", "output_index": i,
               "item": {**item, "status": "in_progress", "arguments": ""}}
        for piece in _pieces(enc, item["arguments"]):
            yield {"type": "response.function_call_arguments.delta", **ref, "delta": piece}
        yield {"type": "response.function_call_arguments.done", **ref, "name": item["name"],
               "arguments": item["arguments"]}
    yield {"type": "response.output_item.done", "output_index": i, "item": item}


def _events(body: dict, enc: Any, error: dict | None) -> Iterator[dict]:
    shell = {**body, "status": "in_progress", "output": [], "usage": None, "completed_at": None,
             "incomplete_details": None}
    yield {"type": "response.created", "response": shell}
    yield {"type": "response.in_progress", "response": shell}
    if error is not None:
        yield {"type": "error", "code": error.get("code"), "message": error["message"], "param": error.get("param")}
        return
    for i, item in enumerate(body["output"]):
        yield from _item_events(enc, i, item)
    yield {"type": "response.incomplete" if body["status"] == "incomplete" else "response.completed",
           "response": body}


def events(body: dict, enc: Any, *, error: dict | None = None) -> Iterator[dict]:
    """The numbered events of streaming `body` (the finished response)."""
    for n, event in enumerate(_events(body, enc, error)):
        event["sequence_number"] = n
        yield event
