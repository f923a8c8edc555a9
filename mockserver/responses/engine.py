"""What a Responses API call says: its items become a chat conversation for the chat engine's entry point
(`routers.chat.run_chat`, the same answers a tuned model gives on `/v1/chat/completions`), and the chosen
reply becomes output items, status and usage.

Conversation = `instructions` as a system message, then each earlier response of a `previous_response_id`
chain (its input items and output items, oldest first), then this request's items. Messages map to chat
messages by role (`input_text` parts → text; `input_image` → an image part), `function_call` items to an
assistant `tool_calls` message, `function_call_output` to a `tool` message. Usage is counted exactly as
chat counts it: `input_tokens` = chat's prompt tokens, `output_tokens` = chat's completion tokens.
"""

from __future__ import annotations

from typing import Any

import orjson

from contracts import errors
from mockserver.chat.request import GenRequest
from mockserver.chat.run import Outcome
from mockserver.responses.request import ResponsesRequest
from mockserver.services import Services

__all__ = ["to_messages", "gen_request", "with_ids", "output_items", "usage", "response_body", "json_mentioned"]


# --- items → chat ------------------------------------------------------------------------------------

def _content(parts: list[dict]) -> Any:
    out = []
    for p in parts:
        kind = p.get("type")
        if kind in ("input_text", "output_text"):
            out.append({"type": "text", "text": p["text"]})
        elif kind == "refusal":
            out.append({"type": "text", "text": p["refusal"]})
        elif kind == "input_image":
            out.append({"type": "image_url", "image_url": {"url": p.get("image_url") or f"file:{p.get('file_id')}"}})
    if len(out) == 1 and out[0]["type"] == "text":
        return out[0]["text"]
    return out or ""


def _message(item: dict) -> dict:
    kind = item["type"]
    if kind == "function_call":
        call = {"id": item["call_id"], "type": "function",
                "function": {"name": item["name"], "arguments": item["arguments"]}}
        return {"role": "assistant", "content": None, "tool_calls": [call]}
    if kind == "function_call_output":
        out = item["output"]
        return {"role": "tool", "tool_call_id": item["call_id"],
                "content": out if isinstance(out, str) else orjson.dumps(out).decode()}
    role = item["role"]
    content = _content(item["content"])
    if role == "assistant" and not isinstance(content, str):
        content = "".join(p.get("text", "") for p in content)
    return {"role": role, "content": content}


def to_messages(instructions: Any, history: list[dict], items: list[dict]) -> list[dict]:
    """The chat conversation of a Responses request (see the module docstring)."""
    out = []
    if isinstance(instructions, str):
        out.append({"role": "system", "content": instructions})
    elif instructions:
        out += [_message(i) for i in instructions]
    return out + [_message(i) for i in history + items]


def json_mentioned(messages: list[dict]) -> bool:
    return "json" in orjson.dumps([m.get("content") for m in messages]).decode().lower()


def gen_request(req: ResponsesRequest, messages: list[dict]) -> GenRequest:
    """The chat engine's request for this Responses request (format, tools, output cap translated)."""
    fmt = req.text_format
    response_format = None
    if fmt["type"] == "json_object":
        if not json_mentioned(messages):
            raise errors.BadRequest("Response input messages must contain the word 'json' in some form to use "
                                    "'text.format' of type 'json_object'.", param="text.format.type",
                                    code="invalid_value")
        response_format = {"type": "json_object"}
    elif fmt["type"] == "json_schema":
        response_format = {"type": "json_schema", "json_schema": {"name": fmt["name"], "schema": fmt["schema"]}}
    tools = [{"type": "function", "function": {"name": t["name"], "parameters": t["parameters"] or {}}}
             for t in req.tools]
    choice = req.tool_choice
    if isinstance(choice, dict):
        choice = {"type": "function", "function": {"name": choice["name"]}}
    return GenRequest(model=req.model, messages=messages, max_tokens=req.max_output_tokens,
                      max_param="max_output_tokens", response_format=response_format, tools=tools,
                      tool_choice=choice if tools else None, service_tier=req.service_tier)


# --- chat → output ---------------------------------------------------------------------------------------

_ID_KINDS = {"message": "message", "function_call": "function_call", "function_call_output": "function_call"}


def with_ids(svc: Services, items: list[dict]) -> list[dict]:
    """Input items as stored: each with an id and `status: completed`, as `input_items` lists them."""
    return [{"id": item.get("id") or svc.ids.new(_ID_KINDS[item["type"]]), **item, "status": "completed"}
            for item in items]


def output_items(svc: Services, out: Outcome) -> list[dict]:
    c = out.choices[0]
    status = "incomplete" if c.finish_reason == "length" else "completed"
    if c.call is not None:
        return [{"id": svc.ids.new("function_call"), "type": "function_call", "status": status,
                 "arguments": c.call["arguments"], "call_id": c.call["id"], "name": c.call["name"]}]
    return [{"id": svc.ids.new("message"), "type": "message", "status": status, "role": "assistant",
             "content": [{"type": "output_text", "text": c.text or "", "annotations": [], "logprobs": []}]}]


def usage(out: Outcome) -> dict:
    u = out.usage
    return {"input_tokens": u["prompt_tokens"], "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
            "output_tokens": u["completion_tokens"], "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": u["total_tokens"]}


def _text_config(fmt: dict) -> dict:
    return {"format": fmt, "verbosity": "medium"}


def response_body(req: ResponsesRequest, *, response_id: str, created_at: int, status: str, output: list[dict],
                  usage: dict | None, completed_at: int | None) -> dict:
    """The Response object, every field the real one carries."""
    incomplete = {"reason": "max_output_tokens"} if status == "incomplete" else None
    return {
        "id": response_id, "object": "response", "created_at": created_at, "status": status,
        "background": req.background, "completed_at": completed_at, "error": None,
        "incomplete_details": incomplete, "instructions": req.instructions,
        "max_output_tokens": req.max_output_tokens, "max_tool_calls": None, "model": req.model,
        "output": output, "parallel_tool_calls": req.parallel_tool_calls,
        "previous_response_id": req.previous_response_id, "prompt_cache_key": req.prompt_cache_key,
        "reasoning": {"effort": None, "summary": None}, "safety_identifier": req.safety_identifier,
        "service_tier": "default" if req.service_tier == "auto" else req.service_tier, "store": req.store,
        "temperature": req.temperature, "text": _text_config(req.text_format), "tool_choice": req.tool_choice,
        "tools": req.tools, "top_logprobs": req.top_logprobs, "top_p": req.top_p, "truncation": req.truncation,
        "usage": usage, "user": req.user, "metadata": req.metadata,
    }
