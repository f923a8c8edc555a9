"""Per-format training-file rules: chat, DPO, prompt/completion and reinforcement checks and their wording.

An examiner takes one parsed example (a dict), the job (anything with `method`) and the encoding, and
returns `(problem, tokens)`: problem is None or `(kind, args)`, a key of `BODIES` and its positional
arguments; tokens is -1 unless the example is well-formed. Message checks return `(kind, args after the
message's place)`, the place ("message 2", "input message 1", ...) being added only on failure.
`contracts.dataset.validation` renders the problems into job errors and drives the scan.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import orjson

from contracts import tokens

__all__ = ["BODIES", "FILE_FORMAT_KINDS", "EXAMINERS", "Examiner", "detect_format", "examine_nothing",
           "file_problem"]

# (example, job, encoding) -> (problem, tokens)
Examiner = Callable[[dict, Any, Any], tuple[tuple | None, int]]

# --- Messages (reference §7.6) ----------------------------------------------------------------------

_BAD = "Invalid file format. "
BODIES = {
    "json": _BAD + "Example {n} cannot be parsed. Error: line contains invalid json: {0} (line {line})",
    "not_object": _BAD + "Example {n} cannot be parsed. Error: expected a JSON object, got {0} (line {line})",
    "unknown_format": "Unexpected file format, expected either prompt/completion pairs or chat messages.",
    "not_method": _BAD + "Input file {file_id} is in the {0} format, but the specified fine-tuning job is "
                         "not using '{1}' as the training method (provided method={method}).",
    "model_format": _BAD + "Input file {file_id} is in the {0} format, but {model} can only be fine-tuned "
                           "on {1}.",
    "missing_key": _BAD + "Example {n} is missing key '{0}'.",
    "not_list": _BAD + "Example {n} '{0}' must be a non-empty list.",
    "wrong_type": _BAD + "Example {n} '{0}' must be {1}.",
    "extra_key": _BAD + "Example {n} contains an unrecognized key '{0}'.",
    "no_assistant": _BAD + "Example {n} has no assistant message.",
    "msg_type": _BAD + "Example {n}, {0} Input should be a valid dictionary",
    "msg_no_role": _BAD + "Example {n}, {0} Discriminator 'role' is missing in value",
    "msg_role": _BAD + "Example {n}, {0} Input tag '{1}' found using 'role' does not match any of the "
                       "expected tags: {2}",
    "msg_extra_key": _BAD + "Example {n}, {0} contains an unrecognized key '{1}'.",
    "msg_missing_key": _BAD + "Example {n}, {0} is missing key '{1}'.",
    "msg_wrong_type": _BAD + "Example {n}, {0} '{1}' must be {2}.",
    "msg_part": _BAD + "Example {n}, {0} content part {1} is invalid: {2}.",
    "weight_extra": _BAD + 'Example {n} contains an extra "weight".',   # no place, {0} unused [OBS-25-10]
    "weight_value": _BAD + 'Example {n}, {0} "weight" must be 0 or 1.',
    "over_limit": "Example {n} has {0} tokens, which exceeds the maximum of {limit} tokens for {model}.",
}
FILE_FORMAT_KINDS = frozenset({"weight_extra", "weight_value"})   # rendered with code invalid_file_format

# --- Keys and roles ---------------------------------------------------------------------------------

_BASE_KEYS = frozenset({"role", "content", "name"})
_ASSISTANT_KEYS = _BASE_KEYS | {"function_call", "tool_calls", "weight"}
_SFT_ROLES = {"system": _BASE_KEYS, "user": _BASE_KEYS, "assistant": _ASSISTANT_KEYS,
              "tool": _BASE_KEYS | {"tool_call_id"}, "function": _BASE_KEYS}
_RFT_ROLES = {**_SFT_ROLES, "developer": _BASE_KEYS}
_DPO_ROLES = {**_SFT_ROLES, "assistant": _ASSISTANT_KEYS - {"weight"}}
_CHAT_KEYS = frozenset({"messages", "tools", "functions", "parallel_tool_calls"})
_DPO_KEYS = frozenset({"input", "preferred_output", "non_preferred_output"})
_DPO_INPUT_KEYS = _CHAT_KEYS
_PC_KEYS = frozenset({"prompt", "completion"})
_FORMAT_NAMES = {"chat": "fine-tune-chat", "dpo": "fine-tune-preference",
                 "prompt_completion": "prompt/completion"}


def detect_format(example: dict) -> str | None:
    """The file format an example is written in: "chat", "dpo", "prompt_completion" or None."""
    if "messages" in example:
        return "chat"
    if "input" in example or "preferred_output" in example or "non_preferred_output" in example:
        return "dpo"
    if "prompt" in example or "completion" in example:
        return "prompt_completion"
    return None


def file_problem(fmt: str | None, job: Any) -> tuple | None:
    """The file-level mismatch of a format with the job's method and model (`job.api`), if any."""
    if fmt is None:
        return "unknown_format", ()
    name = _FORMAT_NAMES[fmt]
    wanted = "dpo" if fmt == "dpo" else "supervised"
    if job.method != wanted and not (fmt == "chat" and job.method == "reinforcement"):
        return "not_method", (name, wanted)
    if (fmt == "prompt_completion") != (job.api == "completions"):
        return "model_format", (name, "chat messages" if job.api == "chat" else "prompt/completion pairs")
    return None


def _first_extra(keys: Iterable[str], allowed: frozenset) -> str:
    return next(k for k in keys if k not in allowed)


# --- Messages of chat, reinforcement and DPO input --------------------------------------------------

def _check_message(m: Any, roles: dict) -> tuple | None:
    if type(m) is not dict:
        return "msg_type", ()
    role = m.get("role")
    if role is None:
        return "msg_no_role", ()
    allowed = roles.get(role) if type(role) is str else None
    if allowed is None:
        return "msg_role", (role, ", ".join(f"'{r}'" for r in roles))
    if not m.keys() <= allowed:
        key = _first_extra(m, allowed)
        return ("weight_extra", ()) if key == "weight" else ("msg_extra_key", (key,))
    name = m.get("name")
    if name is not None and type(name) is not str:
        return "msg_wrong_type", ("name", "a string")
    if role == "function" and name is None:
        return "msg_missing_key", ("name",)
    if role == "tool" and type(m.get("tool_call_id")) is not str:
        return "msg_missing_key", ("tool_call_id",)
    return _check_content(m, role) or (_check_assistant(m) if role == "assistant" else None)


def _check_content(m: dict, role: str) -> tuple | None:
    content = m.get("content")
    if type(content) is str and content:
        return None
    if role == "assistant" and (m.get("tool_calls") or m.get("function_call")):
        ok = content is None or type(content) is str
        return None if ok else ("msg_wrong_type", ("content", "a string"))
    if role == "user" and type(content) is list and content:
        return _check_parts(content)
    if "content" not in m:
        return "msg_missing_key", ("content",)
    return "msg_wrong_type", ("content", "a non-empty string")


def _check_parts(parts: list) -> tuple | None:
    for i, part in enumerate(parts, 1):
        kind = part.get("type") if type(part) is dict else None
        if kind == "text":
            ok = type(part.get("text")) is str
        elif kind == "image_url":
            ok = type(part.get("image_url")) is dict and type(part["image_url"].get("url")) is str
        else:
            return "msg_part", (i, "'type' must be 'text' or 'image_url'")
        if not ok:
            return "msg_part", (i, f"a '{kind}' part needs a string '{'text' if kind == 'text' else 'url'}'")
    return None


def _check_assistant(m: dict) -> tuple | None:
    calls = m.get("tool_calls")
    if calls is not None and (type(calls) is not list or not calls
                              or any(type(c) is not dict for c in calls)):
        return "msg_wrong_type", ("tool_calls", "a non-empty list of objects")
    call = m.get("function_call")
    if call is not None and type(call) is not dict:
        return "msg_wrong_type", ("function_call", "an object")
    w = m.get("weight", 0)
    return None if type(w) is int and w in (0, 1) else ("weight_value", ())


_PLAIN_KEYS = frozenset({"role", "content"})
_PLAIN_ROLES = frozenset({"system", "user", "assistant"})


def _check_messages(messages: Any, key: str, label: str, roles: dict, need_assistant: bool) -> tuple | None:
    if type(messages) is not list or not messages:
        return "not_list", (key,)
    has_assistant = False
    for i, m in enumerate(messages, 1):
        # most messages are {"role": system|user|assistant, "content": a non-empty string}, which every
        # rule of _check_message accepts (these roles allow both keys in every method): skip the calls
        if type(m) is dict and m.keys() == _PLAIN_KEYS and type(role := m["role"]) is str \
                and role in _PLAIN_ROLES and role in roles and type(text := m["content"]) is str and text:
            has_assistant = has_assistant or role == "assistant"
            continue
        problem = _check_message(m, roles)
        if problem is not None:
            return problem[0], (f"{label} {i}", *problem[1])
        has_assistant = has_assistant or m["role"] == "assistant"
    return None if has_assistant or not need_assistant else ("no_assistant", ())


def _check_tools(ex: dict) -> tuple | None:
    for key in ("tools", "functions"):
        value = ex.get(key)
        if value is not None and (type(value) is not list or any(type(t) is not dict for t in value)):
            return "wrong_type", (key, "a list of objects")
    flag = ex.get("parallel_tool_calls")
    if flag is not None and type(flag) is not bool:
        return "wrong_type", ("parallel_tool_calls", "a boolean")
    return None


def _extra_tokens(count: tokens.Count, ex: dict) -> int:
    total = 0
    for key in ("tools", "functions"):
        value = ex.get(key)
        if value:
            total += count(orjson.dumps(value).decode())
    return total


# --- Examiners --------------------------------------------------------------------------------------

def _examine_chat(ex: dict, job: Any, count: tokens.Count) -> tuple[tuple | None, int]:
    """Chat (supervised) and reinforcement examples: the latter allow extra top-level keys (grader data),
    `developer` messages and no assistant message."""
    rft = job.method == "reinforcement"
    if "messages" not in ex:
        return ("missing_key", ("messages",)), -1
    if not rft and not ex.keys() <= _CHAT_KEYS:
        return ("extra_key", (_first_extra(ex, _CHAT_KEYS),)), -1
    messages = ex["messages"]
    more = len(ex) > 1   # tools, functions, parallel_tool_calls or (reinforcement) grader data
    problem = (_check_messages(messages, "messages", "message", _RFT_ROLES if rft else _SFT_ROLES, not rft)
               or (_check_tools(ex) if more else None))
    if problem is not None:
        return problem, -1
    return None, tokens.count_messages_recipe(count, messages) + (_extra_tokens(count, ex) if more else 0)


def _examine_dpo(ex: dict, job: Any, count: tokens.Count) -> tuple[tuple | None, int]:
    """DPO examples; counted as the recipe over the input messages followed by the preferred output."""
    problem = _check_dpo_keys(ex)
    if problem is not None:
        return problem, -1
    inp = ex["input"]
    problem = (_check_messages(inp["messages"], "input.messages", "input message", _DPO_ROLES, False)
               or _check_tools(inp) or _check_outputs(ex, "preferred_output")
               or _check_outputs(ex, "non_preferred_output"))
    if problem is not None:
        return problem, -1
    n = tokens.count_messages_recipe(count, [*inp["messages"], *ex["preferred_output"]])
    return None, n + _extra_tokens(count, inp)


def _check_dpo_keys(ex: dict) -> tuple | None:
    for key in ("input", "preferred_output", "non_preferred_output"):
        if key not in ex:
            return "missing_key", (key,)
    if not ex.keys() <= _DPO_KEYS:
        return "extra_key", (_first_extra(ex, _DPO_KEYS),)
    inp = ex["input"]
    if type(inp) is not dict:
        return "wrong_type", ("input", "an object")
    if "messages" not in inp:
        return "missing_key", ("input.messages",)
    if not inp.keys() <= _DPO_INPUT_KEYS:
        return "extra_key", ("input." + _first_extra(inp, _DPO_INPUT_KEYS),)
    return None


def _check_outputs(ex: dict, key: str) -> tuple | None:
    outputs = ex[key]
    if type(outputs) is not list or not outputs:
        return "not_list", (key,)
    for i, m in enumerate(outputs, 1):
        problem = _check_output(m)
        if problem is not None:
            return problem[0], (f"{key} message {i}", *problem[1])
    return None


def _check_output(m: Any) -> tuple | None:
    if type(m) is not dict:
        return "msg_type", ()
    if m.get("role") != "assistant":
        return ("msg_no_role", ()) if "role" not in m else ("msg_role", (m["role"], "'assistant'"))
    if not m.keys() <= _BASE_KEYS:
        return "msg_extra_key", (_first_extra(m, _BASE_KEYS),)
    content = m.get("content")
    return None if type(content) is str and content else ("msg_wrong_type", ("content", "a non-empty string"))


def _examine_pc(ex: dict, job: Any, count: tokens.Count) -> tuple[tuple | None, int]:
    """Prompt/completion examples, counted as tokens(prompt) + tokens(completion)."""
    for key in ("prompt", "completion"):
        if key not in ex:
            return ("missing_key", (key,)), -1
    if not ex.keys() <= _PC_KEYS:
        return ("extra_key", (_first_extra(ex, _PC_KEYS),)), -1
    prompt, completion = ex["prompt"], ex["completion"]
    if type(prompt) is not str:
        return ("wrong_type", ("prompt", "a string")), -1
    if type(completion) is not str or not completion:
        return ("wrong_type", ("completion", "a non-empty string")), -1
    return None, count(prompt) + count(completion)


def examine_nothing(ex: dict, job: Any, count: tokens.Count) -> tuple[tuple | None, int]:
    """The examiner of a file whose format is unknown: nothing to check, nothing counted."""
    return None, -1


EXAMINERS: dict[str, Examiner] = {"chat": _examine_chat, "dpo": _examine_dpo,
                                  "prompt_completion": _examine_pc}
