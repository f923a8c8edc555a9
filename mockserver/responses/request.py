"""Hand validation of `POST /v1/responses` (and `/v1/responses/input_tokens`) bodies, with the real codes.

`parse_create(body)` returns a `ResponsesRequest`: the input normalised to stored items (a string becomes
one user message; `{"role", "content"}` shorthand becomes a `message` item; string content becomes an
`input_text` / `output_text` part), plus everything the response echoes. Errors name the Responses
parameters (`input[0].content`, `text.format.schema`, `tools[0].name`, …), never chat's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from contracts import errors
from contracts.limits import RESPONSES_MIN_OUTPUT_TOKENS
from mockserver.chat import request as cr

__all__ = ["ResponsesRequest", "parse_create", "parse_input_tokens", "CREATE_FIELDS", "INPUT_TOKENS_FIELDS"]

CREATE_FIELDS = frozenset({
    "model", "input", "instructions", "previous_response_id", "store", "max_output_tokens", "text", "tools",
    "tool_choice", "metadata", "stream", "stream_options", "background", "temperature", "top_p", "user",
    "parallel_tool_calls", "truncation", "reasoning", "include", "service_tier", "safety_identifier",
    "prompt_cache_key", "prompt_cache_retention", "max_tool_calls", "top_logprobs", "conversation", "prompt",
})
INPUT_TOKENS_FIELDS = frozenset({
    "model", "input", "instructions", "previous_response_id", "tools", "tool_choice", "text", "reasoning",
    "truncation", "parallel_tool_calls", "conversation",
})
_ROLES = ("user", "assistant", "system", "developer")
_USER_PARTS = ("input_text", "input_image", "input_file")
_ITEM_TYPES = ("message", "function_call", "function_call_output")


@dataclass(slots=True)
class ResponsesRequest:
    model: str
    items: list[dict] = field(default_factory=list)
    instructions: Any = None
    previous_response_id: str | None = None
    store: bool = True
    background: bool = False
    stream: bool = False
    max_output_tokens: int | None = None
    text_format: dict = field(default_factory=lambda: {"type": "text"})
    tools: list[dict] = field(default_factory=list)
    tool_choice: Any = "auto"
    metadata: dict = field(default_factory=dict)
    temperature: float = 1.0
    top_p: float = 1.0
    user: str | None = None
    parallel_tool_calls: bool = True
    truncation: str = "disabled"
    service_tier: str = "auto"
    reasoning: dict | None = None
    safety_identifier: str | None = None
    prompt_cache_key: str | None = None
    top_logprobs: int = 0


# --- input items --------------------------------------------------------------------------------------

def _parts(path: str, role: str, content: Any) -> list[dict]:
    if isinstance(content, str):
        if role == "assistant":
            return [{"type": "output_text", "text": content, "annotations": []}]
        return [{"type": "input_text", "text": content}]
    parts = cr.as_array(path, content)
    allowed = ("output_text", "refusal") if role == "assistant" else _USER_PARTS
    out = []
    for j, part in enumerate(parts):
        p = f"{path}[{j}]"
        cr.as_object(p, part)
        kind = cr.as_enum(f"{p}.type", cr.required(p, part, "type"), allowed)
        if kind in ("input_text", "output_text", "refusal"):
            key = "refusal" if kind == "refusal" else "text"
            cr.as_string(f"{p}.{key}", cr.required(p, part, key))
        if kind == "output_text":
            part = {"annotations": [], **part}
        out.append(part)
    return out


def _message(path: str, item: dict) -> dict:
    cr.no_unknown(path, item, {"type", "role", "content", "id", "status", "phase"})
    role = cr.as_enum(f"{path}.role", cr.required(path, item, "role"), _ROLES)
    return {"type": "message", "role": role,
            "content": _parts(f"{path}.content", role, cr.required(path, item, "content"))}


def _function_call(path: str, item: dict) -> dict:
    cr.no_unknown(path, item, {"type", "id", "call_id", "name", "arguments", "status"})
    out = {"type": "function_call", "call_id": cr.as_string(f"{path}.call_id", cr.required(path, item, "call_id")),
           "name": cr.as_string(f"{path}.name", cr.required(path, item, "name")),
           "arguments": cr.as_string(f"{path}.arguments", cr.required(path, item, "arguments"))}
    if item.get("id") is not None:
        out["id"] = cr.as_string(f"{path}.id", item["id"])
    return out


def _function_output(path: str, item: dict) -> dict:
    cr.no_unknown(path, item, {"type", "id", "call_id", "output", "status"})
    output = cr.required(path, item, "output")
    if not isinstance(output, str):
        cr.as_array(f"{path}.output", output)
    return {"type": "function_call_output",
            "call_id": cr.as_string(f"{path}.call_id", cr.required(path, item, "call_id")), "output": output}


def parse_items(path: str, value: Any) -> list[dict]:
    """`input` (or `instructions`) as normalised items: a string is one user message."""
    if isinstance(value, str):
        return [{"type": "message", "role": "user", "content": [{"type": "input_text", "text": value}]}]
    items = cr.as_array(path, value)
    out = []
    for i, item in enumerate(items):
        p = f"{path}[{i}]"
        cr.as_object(p, item)
        kind = item.get("type", "message")
        cr.as_enum(f"{p}.type", kind, _ITEM_TYPES)
        if kind == "message":
            out.append(_message(p, item))
        elif kind == "function_call":
            out.append(_function_call(p, item))
        else:
            out.append(_function_output(p, item))
    return out


# --- tools and formats ---------------------------------------------------------------------------------

def _tools(value: Any) -> list[dict]:
    tools = cr.as_array("tools", value)
    out = []
    for i, tool in enumerate(tools):
        path = f"tools[{i}]"
        cr.as_object(path, tool)
        kind = cr.as_string(f"{path}.type", cr.required(path, tool, "type"))
        if kind != "function":
            raise errors.invalid_value(f"{path}.type", f"Tool type '{kind}' is not supported by the emulator: "
                                       "it runs no built-in tools; use function tools.")
        fn = cr.function_def(path, {k: v for k, v in tool.items() if k != "type"})
        out.append({"type": "function", "name": fn["name"], "description": fn.get("description"),
                    "parameters": fn.get("parameters"), "strict": fn.get("strict", True)})
    return out


def _tool_choice(value: Any, tools: list[dict]) -> Any:
    if isinstance(value, str):
        return cr.as_enum("tool_choice", value, ("none", "auto", "required"))
    cr.as_object("tool_choice", value)
    cr.as_enum("tool_choice.type", cr.required("tool_choice", value, "type"), ("function",))
    name = cr.as_string("tool_choice.name", cr.required("tool_choice", value, "name"))
    if name not in [t["name"] for t in tools]:
        raise errors.invalid_value("tool_choice", f"Tool choice 'function' with name '{name}' not found in 'tools' "
                                   "parameter.")
    return {"type": "function", "name": name}


def _text(value: Any) -> dict:
    cr.as_object("text", value)
    cr.no_unknown("text", value, {"format", "verbosity"})
    fmt = value.get("format")
    if fmt is None:
        return {"type": "text"}
    cr.as_object("text.format", fmt)
    kind = cr.as_enum("text.format.type", cr.required("text.format", fmt, "type"),
                      ("text", "json_object", "json_schema"))
    if kind != "json_schema":
        cr.no_unknown("text.format", fmt, {"type"})
        return {"type": kind}
    cr.no_unknown("text.format", fmt, {"type", "name", "schema", "description", "strict"})
    cr.as_string("text.format.name", cr.required("text.format", fmt, "name"))
    cr.as_object("text.format.schema", cr.required("text.format", fmt, "schema"))
    if fmt.get("strict") is not None:
        cr.as_bool("text.format.strict", fmt["strict"])
    return dict(fmt)


# --- the body -------------------------------------------------------------------------------------------

_SIMPLE = {
    "temperature": lambda p, v: cr.as_number(p, v, 0, 2), "top_p": lambda p, v: cr.as_number(p, v, 0, 1),
    "user": cr.as_string, "safety_identifier": cr.as_string, "prompt_cache_key": cr.as_string,
    "store": cr.as_bool, "background": cr.as_bool, "stream": cr.as_bool, "parallel_tool_calls": cr.as_bool,
    "previous_response_id": cr.as_string, "reasoning": cr.as_object, "stream_options": cr.as_object,
    "include": cr.as_array, "prompt": cr.as_object, "prompt_cache_retention": cr.as_string,
    "truncation": lambda p, v: cr.as_enum(p, v, ("auto", "disabled")),
    "service_tier": lambda p, v: cr.as_enum(p, v, ("auto", "default", "flex", "scale", "priority")),
    "max_tool_calls": lambda p, v: cr.as_int(p, v, 1), "top_logprobs": lambda p, v: cr.as_int(p, v, 0, 20),
    "metadata": cr.check_metadata,
}


def _common(body: dict, allowed: frozenset[str]) -> ResponsesRequest:
    for key, value in body.items():
        if key not in allowed:
            raise errors.unknown_parameter(key)
        if value is not None and key in _SIMPLE:
            _SIMPLE[key](key, value)
    if body.get("conversation") is not None:
        raise errors.invalid_value("conversation", "Conversations are not supported by the emulator; use "
                                   "'previous_response_id' to chain responses.")
    req = ResponsesRequest(model=cr.as_string("model", cr.required("", body, "model")))
    if body.get("input") is not None:
        req.items = parse_items("input", body["input"])
    if body.get("instructions") is not None:
        ins = body["instructions"]
        req.instructions = ins if isinstance(ins, str) else parse_items("instructions", ins)
    req.previous_response_id = body.get("previous_response_id")
    if body.get("tools") is not None:
        req.tools = _tools(body["tools"])
    if body.get("tool_choice") is not None:
        req.tool_choice = _tool_choice(body["tool_choice"], req.tools)
    if body.get("text") is not None:
        req.text_format = _text(body["text"])
    return req


def parse_create(body: dict) -> ResponsesRequest:
    """The validated create request, or the API error the real endpoint answers with."""
    req = _common(body, CREATE_FIELDS)
    if not req.items and req.previous_response_id is None:
        raise errors.missing_parameter("input")
    get = body.get
    if get("max_output_tokens") is not None:
        req.max_output_tokens = cr.as_int("max_output_tokens", get("max_output_tokens"), RESPONSES_MIN_OUTPUT_TOKENS)
    for key in ("store", "background", "stream", "temperature", "top_p", "user", "parallel_tool_calls",
                "truncation", "service_tier", "reasoning", "safety_identifier", "prompt_cache_key", "top_logprobs"):
        if get(key) is not None:
            setattr(req, key, get(key))
    req.metadata = get("metadata") or {}
    if get("stream_options") is not None and not req.stream:
        raise errors.invalid_value("stream_options", "The 'stream_options' parameter is only allowed when "
                                   "'stream' is enabled.")
    if req.background and not req.store:
        raise errors.invalid_value("background", "Background responses require 'store' to be true.")
    return req


def parse_input_tokens(body: dict) -> ResponsesRequest:
    return _common(body, INPUT_TOKENS_FIELDS)
