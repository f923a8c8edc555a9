"""Hand validation of /v1/chat/completions and /v1/completions bodies, with the real API's error codes.

`parse_chat(body)` / `parse_completion(body)` return a `GenRequest` (a plain slotted dataclass; no pydantic
on the hot path) or raise `contracts.errors.APIError`: unknown keys → `unknown_parameter` (param is the
path, e.g. `messages[0].id`), missing keys → `missing_required_parameter`, wrong JSON types →
`invalid_type`, out-of-range numbers → `{integer|decimal}_{above_max|below_min}_value`, bad enum values
and inconsistent combinations → `invalid_value`. `null` means "not given" for every optional field.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from contracts import errors, limits
from contracts.metadata import check_metadata
from mockserver.chat.capabilities import CAPABILITY_PARAMS
from mockserver.chat.schema_limits import check_schema

__all__ = ["GenRequest", "parse_chat", "parse_completion", "CHAT_FIELDS", "COMPLETION_FIELDS", "as_object", "as_array",
           "as_string", "as_bool", "as_int", "as_number", "as_enum", "required", "no_unknown", "check_metadata",
           "function_def", "empty_array"]

ROLES = ("system", "assistant", "user", "function", "tool", "developer")
_MESSAGE_KEYS = {
    "system": frozenset({"role", "content", "name"}),
    "developer": frozenset({"role", "content", "name"}),
    "user": frozenset({"role", "content", "name"}),
    "assistant": frozenset({"role", "content", "refusal", "name", "audio", "tool_calls", "function_call"}),
    "tool": frozenset({"role", "content", "tool_call_id"}),
    "function": frozenset({"role", "content", "name"}),
}
_PART_TYPES = {"user": ("text", "image_url", "input_audio", "file"), "assistant": ("text", "refusal")}
_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")


@dataclass(slots=True)
class GenRequest:
    """A validated generation request; chat fills `messages`, legacy completions fill `prompts`."""

    model: str
    messages: list[dict] = field(default_factory=list)
    prompts: list[str] = field(default_factory=list)
    prompt_token_counts: list[int | None] = field(default_factory=list)
    n: int = 1
    max_tokens: int | None = None
    max_param: str = "max_tokens"
    stop: list[str] = field(default_factory=list)
    seed: int | None = None
    stream: bool = False
    include_usage: bool = False
    response_format: dict | None = None
    tools: list[dict] = field(default_factory=list)
    tool_choice: Any = None
    functions: list[dict] = field(default_factory=list)
    function_call: Any = None
    logprobs: bool = False
    top_logprobs: int = 0
    service_tier: str | None = None
    echo: bool = False
    extras: dict[str, Any] = field(default_factory=dict)   # capabilities.CAPABILITY_PARAMS sent


# --- primitive checks ----------------------------------------------------------------------------


def _obj(path: str, v: Any) -> dict:
    if not isinstance(v, dict):
        raise errors.invalid_type(path, "an object", v)
    return v


def _arr(path: str, v: Any) -> list:
    if not isinstance(v, list):
        raise errors.invalid_type(path, "an array", v)
    return v


def _str(path: str, v: Any) -> str:
    if not isinstance(v, str):
        raise errors.invalid_type(path, "a string", v)
    return v


def _bool(path: str, v: Any) -> bool:
    if type(v) is not bool:
        raise errors.invalid_type(path, "a boolean", v)
    return v


def _int(path: str, v: Any, lo: int | None = None, hi: int | None = None) -> int:
    if type(v) is not int:
        raise errors.invalid_type(path, "an integer", v)
    if lo is not None and v < lo:
        raise errors.below_min(path, lo, v)
    if hi is not None and v > hi:
        raise errors.above_max(path, hi, v)
    return v


def _num(path: str, v: Any, lo: float, hi: float) -> float:
    if type(v) not in (int, float):
        raise errors.invalid_type(path, "a decimal", v)
    if v < lo:
        raise errors.below_min(path, float(lo), v)
    if v > hi:
        raise errors.above_max(path, float(hi), v)
    return v


def _supported(values: tuple[str, ...]) -> str:
    quoted = [f"'{x}'" for x in values]
    return ", ".join(quoted[:-1]) + (", and " if len(quoted) > 2 else " and ") + quoted[-1]


def _enum(path: str, v: Any, allowed: tuple[str, ...]) -> str:
    _str(path, v)
    if v not in allowed:
        raise errors.invalid_value(path, f"Invalid value: '{v}'. Supported values are: "
                                   f"{_supported(allowed)}.")
    return v


def _empty_array(path: str) -> errors.BadRequest:
    return errors.BadRequest(f"Invalid '{path}': empty array. Expected an array with minimum length 1, "
                             "but got an empty array instead.", param=path, code="empty_array")


def _only_with(param: str, needs: str) -> errors.BadRequest:
    return errors.invalid_value(param, f"Invalid value for '{param}': '{param}' is only allowed when "
                                f"'{needs}' are specified.")


def _bad_name(path: str) -> errors.BadRequest:
    return errors.invalid_value(path, f"Invalid '{path}': string does not match pattern. Expected a string "
                                "that matches the pattern '^[a-zA-Z0-9_-]+$'.")


def _no_unknown(path: str, obj: dict, allowed: frozenset[str] | set[str]) -> None:
    for key in obj:
        if key not in allowed:
            raise errors.unknown_parameter(f"{path}.{key}" if path else key)


def _required(path: str, obj: dict, key: str) -> Any:
    v = obj.get(key)
    if v is None:
        raise errors.missing_parameter(f"{path}.{key}" if path else key)
    return v


# --- messages ---------------------------------------------------------------------------------------


def _text(path: str, v: Any) -> str:
    if len(_str(path, v)) > limits.MAX_MESSAGE_CHARS:
        raise errors.string_too_long(path, limits.MAX_MESSAGE_CHARS, len(v))
    return v


def _content(path: str, role: str, v: Any) -> None:
    if isinstance(v, str):
        _text(path, v)
        return
    parts = _arr(path, v)
    if not parts:
        raise _empty_array(path)
    allowed = _PART_TYPES.get(role, ("text",))
    for j, part in enumerate(parts):
        p = f"{path}[{j}]"
        _obj(p, part)
        kind = _enum(f"{p}.type", _required(p, part, "type"), allowed)
        if kind in ("text", "refusal"):
            _text(f"{p}.{kind}", _required(p, part, kind))


def _message(i: int, m: Any) -> None:
    path = f"messages[{i}]"
    _obj(path, m)
    role = _enum(f"{path}.role", _required(path, m, "role"), ROLES)
    _no_unknown(path, m, _MESSAGE_KEYS[role])
    content = m.get("content")
    if role == "assistant":
        if content is None and not m.get("tool_calls") and not m.get("function_call"):
            raise errors.missing_parameter(f"{path}.content")
        if m.get("tool_calls") is not None:
            for j, call in enumerate(_arr(f"{path}.tool_calls", m["tool_calls"])):
                _obj(f"{path}.tool_calls[{j}]", call)
    elif content is None and role != "function":
        raise errors.missing_parameter(f"{path}.content")
    if content is not None:
        _content(f"{path}.content", role, content)
    if role == "tool":
        _str(f"{path}.tool_call_id", _required(path, m, "tool_call_id"))
    if role == "function" or m.get("name") is not None:
        _str(f"{path}.name", _required(path, m, "name"))


def _plain(m: Any) -> bool:
    """Whether `m` is a `{role, content}` message _message accepts without a check of its own: a system,
    developer or user role and text content within the limit (no path strings built for the common case)."""
    if type(m) is not dict or len(m) != 2:
        return False
    role, content = m.get("role"), m.get("content")
    return type(role) is str and role in _PLAIN_ROLES and type(content) is str \
        and len(content) <= limits.MAX_MESSAGE_CHARS


_PLAIN_ROLES = ("system", "developer", "user")


def _messages(v: Any) -> list[dict]:
    msgs = _arr("messages", v)
    if not msgs:
        raise _empty_array("messages")
    for i, m in enumerate(msgs):
        if not _plain(m):
            _message(i, m)
    return msgs


# --- tools, formats, options ------------------------------------------------------------------------


def _function_def(path: str, fn: Any) -> dict:
    _obj(path, fn)
    _no_unknown(path, fn, {"name", "description", "parameters", "strict"})
    name = _str(f"{path}.name", _required(path, fn, "name"))
    if not _NAME.match(name):
        raise _bad_name(f"{path}.name")
    if fn.get("parameters") is not None:
        check_schema(_obj(f"{path}.parameters", fn["parameters"]), kind="function", name=name,
                     param=f"{path}.parameters")
    if fn.get("strict") is not None:
        _bool(f"{path}.strict", fn["strict"])
    return fn


def _tools(v: Any) -> list[dict]:
    tools = _arr("tools", v)
    if len(tools) > 128:
        raise errors.array_too_long("tools", 128, len(tools))
    for i, tool in enumerate(tools):
        path = f"tools[{i}]"
        _obj(path, tool)
        kind = _enum(f"{path}.type", _required(path, tool, "type"), ("function", "custom"))
        _no_unknown(path, tool, {"type", kind})
        if kind == "function":
            _function_def(f"{path}.function", _required(path, tool, "function"))
        else:
            custom = _obj(f"{path}.custom", _required(path, tool, "custom"))
            _str(f"{path}.custom.name", _required(f"{path}.custom", custom, "name"))
    return tools


def _tool_names(tools: list[dict]) -> list[str]:
    return [t[t["type"]]["name"] for t in tools]


def _tool_choice(v: Any, tools: list[dict]) -> Any:
    if not tools:
        raise _only_with("tool_choice", "tools")
    if isinstance(v, str):
        return _enum("tool_choice", v, ("none", "auto", "required"))
    _obj("tool_choice", v)
    kinds = ("function", "custom", "allowed_tools")
    kind = _enum("tool_choice.type", _required("tool_choice", v, "type"), kinds)
    if kind == "allowed_tools":
        allowed = _obj("tool_choice.allowed_tools", _required("tool_choice", v, "allowed_tools"))
        mode = _required("tool_choice.allowed_tools", allowed, "mode")
        return _enum("tool_choice.allowed_tools.mode", mode, ("auto", "required"))
    target = _obj(f"tool_choice.{kind}", _required("tool_choice", v, kind))
    name = _str(f"tool_choice.{kind}.name", _required(f"tool_choice.{kind}", target, "name"))
    if name not in _tool_names(tools):
        raise errors.invalid_value("tool_choice", f"Invalid value for 'tool_choice': tool '{name}' is not "
                                   "one of the tools specified in 'tools'.")
    return {"type": kind, kind: {"name": name}}


def _response_format(v: Any, messages: list[dict]) -> dict | None:
    _obj("response_format", v)
    kind = _enum("response_format.type", _required("response_format", v, "type"),
                 ("text", "json_object", "json_schema"))
    _no_unknown("response_format", v, {"type", "json_schema"} if kind == "json_schema" else {"type"})
    if kind == "text":
        return None
    if kind == "json_object":
        text = "".join(str(m.get("content")) for m in messages)
        if "json" not in text.lower():
            raise errors.BadRequest("'messages' must contain the word 'json' in some form, to use "
                                    "'response_format' of type 'json_object'.", param="messages")
        return v
    js = _obj("response_format.json_schema", _required("response_format", v, "json_schema"))
    _no_unknown("response_format.json_schema", js, {"name", "description", "schema", "strict"})
    name = _str("response_format.json_schema.name", _required("response_format.json_schema", js, "name"))
    if not _NAME.match(name):
        raise _bad_name("response_format.json_schema.name")
    if js.get("schema") is not None:
        check_schema(_obj("response_format.json_schema.schema", js["schema"]), kind="response_format", name=name,
                     param="response_format")
    if js.get("strict") is not None:
        _bool("response_format.json_schema.strict", js["strict"])
    return v


def _stop(v: Any) -> list[str]:
    if isinstance(v, str):
        return [v] if v else []
    items = _arr("stop", v)
    if len(items) > 4:
        raise errors.array_too_long("stop", 4, len(items))
    return [s for i, s in enumerate(items) if _str(f"stop[{i}]", s)]


def _stream_options(v: Any) -> bool:
    _obj("stream_options", v)
    _no_unknown("stream_options", v, {"include_usage", "include_obfuscation"})
    for key in ("include_usage", "include_obfuscation"):
        if v.get(key) is not None:
            _bool(f"stream_options.{key}", v[key])
    return bool(v.get("include_usage"))


def _logit_bias(path: str, v: Any) -> None:
    _obj(path, v)
    for key, value in v.items():
        if not (key.isascii() and key.lstrip("-").isdigit()):   # "²" and other non-ASCII digits are no ids
            raise errors.invalid_value(path, f"Invalid key in '{path}': {key}. Only token ids (integers) are "
                                       "allowed.")
        _num(f"{path}.{key}", value, -100, 100)


_SIMPLE: dict[str, Callable[[str, Any], Any]] = {
    "temperature": lambda p, v: _num(p, v, 0, 2),
    "top_p": lambda p, v: _num(p, v, 0, 1),
    "presence_penalty": lambda p, v: _num(p, v, -2, 2),
    "frequency_penalty": lambda p, v: _num(p, v, -2, 2),
    "seed": _int,
    "user": _str, "prompt_cache_key": _str, "safety_identifier": _str, "prompt_cache_retention": _str,
    "store": _bool, "parallel_tool_calls": _bool,
    "metadata": check_metadata, "logit_bias": _logit_bias,
    "audio": _obj, "prediction": _obj, "web_search_options": _obj, "moderation": _obj,
    "prompt_cache_options": _obj,
    "service_tier": lambda p, v: _enum(p, v, ("auto", "default", "flex", "scale", "priority")),
    "reasoning_effort": lambda p, v: _enum(p, v, ("none", "minimal", "low", "medium", "high", "xhigh")),
    "verbosity": lambda p, v: _enum(p, v, ("low", "medium", "high")),
    "modalities": lambda p, v: [_enum(f"{p}[{i}]", x, ("text", "audio")) for i, x in enumerate(_arr(p, v))],
    "suffix": _str, "best_of": lambda p, v: _int(p, v, 0, 20),
}

CHAT_FIELDS = frozenset({
    "model", "messages", "n", "max_tokens", "max_completion_tokens", "stop", "temperature", "top_p", "seed",
    "stream", "stream_options", "response_format", "tools", "tool_choice", "parallel_tool_calls", "logprobs",
    "top_logprobs", "user", "metadata", "store", "presence_penalty", "frequency_penalty", "logit_bias",
    "service_tier", "functions", "function_call", "modalities", "reasoning_effort", "prediction", "audio",
    "web_search_options", "prompt_cache_key", "safety_identifier", "verbosity", "moderation",
    "prompt_cache_retention", "prompt_cache_options",
})
COMPLETION_FIELDS = frozenset({
    "model", "prompt", "best_of", "echo", "frequency_penalty", "logit_bias", "logprobs", "max_tokens", "n",
    "presence_penalty", "seed", "stop", "stream", "stream_options", "suffix", "temperature", "top_p", "user",
})


def _common(body: dict, allowed: frozenset[str], req: GenRequest) -> None:
    """Checks shared by both endpoints; fills n, stop, seed, stream, service tier."""
    for key, value in body.items():
        if key not in allowed:
            raise errors.unknown_parameter(key)
        if value is not None and key in _SIMPLE:
            _SIMPLE[key](key, value)
    get = body.get
    if get("n") is not None:
        req.n = _int("n", get("n"), 1, 128)
    if get("stop") is not None:
        req.stop = _stop(get("stop"))
    req.seed = get("seed")
    if get("stream") is not None:
        req.stream = _bool("stream", get("stream"))
    if get("stream_options") is not None:
        req.include_usage = _stream_options(get("stream_options"))
        if not req.stream:
            raise errors.invalid_value("stream_options", "The 'stream_options' parameter is only allowed "
                                       "when 'stream' is enabled.")
    req.service_tier = get("service_tier")


def _max_tokens(body: dict, req: GenRequest) -> None:
    for key in ("max_tokens", "max_completion_tokens"):
        if body.get(key) is not None:
            req.max_tokens = _int(key, body[key], 1)
            req.max_param = key


def _chat_tools(body: dict, req: GenRequest) -> None:
    if body.get("tools") is not None:
        req.tools = _tools(body["tools"])
    if body.get("parallel_tool_calls") is not None and not req.tools:
        raise _only_with("parallel_tool_calls", "tools")
    if body.get("tool_choice") is not None:
        req.tool_choice = _tool_choice(body["tool_choice"], req.tools)
    if body.get("functions") is not None:
        req.functions = [_function_def(f"functions[{i}]", f) for i, f in enumerate(_arr("functions",
                                                                                        body["functions"]))]
    fc = body.get("function_call")
    if fc is not None:
        if isinstance(fc, str):
            req.function_call = _enum("function_call", fc, ("none", "auto"))
        else:
            name = _str("function_call.name", _required("function_call", _obj("function_call", fc), "name"))
            if name not in [f["name"] for f in req.functions]:
                raise errors.invalid_value("function_call", f"Invalid value for 'function_call': function "
                                           f"'{name}' is not one of the functions specified in 'functions'.")
            req.function_call = {"name": name}


_CAPABILITY_KEYS = frozenset(CAPABILITY_PARAMS)
_TOOL_KEYS = frozenset({"tools", "parallel_tool_calls", "tool_choice", "functions", "function_call"})


def parse_chat(body: dict) -> GenRequest:
    """The validated chat request, or the API error the real endpoint answers with."""
    req = GenRequest(model="")
    _common(body, CHAT_FIELDS, req)
    req.model = _str("model", _required("", body, "model"))
    req.messages = _messages(_required("", body, "messages"))
    if not _CAPABILITY_KEYS.isdisjoint(body):
        req.extras = {k: body[k] for k in CAPABILITY_PARAMS if body.get(k) is not None}
    _max_tokens(body, req)
    if not _TOOL_KEYS.isdisjoint(body):
        _chat_tools(body, req)
    if body.get("response_format") is not None:
        req.response_format = _response_format(body["response_format"], req.messages)
    if body.get("logprobs") is not None:
        req.logprobs = _bool("logprobs", body["logprobs"])
    if body.get("top_logprobs") is not None:
        req.top_logprobs = _int("top_logprobs", body["top_logprobs"], 0, 20)
        if not req.logprobs:
            raise errors.invalid_value("top_logprobs", "Invalid value for 'top_logprobs': 'logprobs' must be "
                                       "set to true when 'top_logprobs' is used.")
    return req


def _prompts(v: Any) -> tuple[list[str], list[int | None]]:
    """Prompt texts and, for token-id prompts, their token counts."""
    if isinstance(v, str):
        return [_text("prompt", v)], [None]
    items = _arr("prompt", v)
    if not items:
        raise _empty_array("prompt")
    if len(items) > limits.MAX_PROMPTS and not all(type(x) is int for x in items):
        raise errors.array_too_long("prompt", limits.MAX_PROMPTS, len(items))
    if all(type(x) is int for x in items):
        return [_ids_text(items)], [len(items)]
    texts, counts = [], []
    for i, x in enumerate(items):
        if isinstance(x, str):
            texts.append(_text(f"prompt[{i}]", x))
            counts.append(None)
        elif isinstance(x, list) and all(type(t) is int for t in x):
            texts.append(_ids_text(x))
            counts.append(len(x))
        else:
            raise errors.invalid_type(f"prompt[{i}]", "a string", x)
    return texts, counts


def _ids_text(ids: list[int]) -> str:
    """Token ids as text (cl100k_base, the encoding of every completions model)."""
    from contracts import tokens

    enc = tokens.get_encoding("cl100k_base")
    try:
        return enc.decode(ids)
    except (KeyError, ValueError, OverflowError):
        raise errors.invalid_value("prompt", "Invalid 'prompt': contains token ids outside the "
                                   "vocabulary.") from None


def parse_completion(body: dict) -> GenRequest:
    """The validated legacy completions request; `max_tokens` defaults to 16 as on the real endpoint."""
    req = GenRequest(model="", max_tokens=16)
    _common(body, COMPLETION_FIELDS, req)
    req.model = _str("model", _required("", body, "model"))
    req.prompts, req.prompt_token_counts = _prompts(_required("", body, "prompt"))
    if body.get("max_tokens") is not None:
        req.max_tokens = _int("max_tokens", body["max_tokens"], 0)
    if body.get("echo") is not None:
        req.echo = _bool("echo", body["echo"])
    if body.get("logprobs") is not None:
        req.top_logprobs = _int("logprobs", body["logprobs"], 0, 5)
        req.logprobs = True
    return req


# Primitive checks shared with the Responses API's hand validation (mockserver.responses.request), which
# sits on the same hot path and answers with the same codes.
as_object, as_array, as_string, as_bool, as_int, as_number, as_enum = _obj, _arr, _str, _bool, _int, _num, _enum
required, no_unknown, function_def = _required, _no_unknown, _function_def
empty_array = _empty_array
