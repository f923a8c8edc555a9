"""Training-file validation: the one streaming checker behind job validation and the client report.

A file is read line by line (never whole), each non-blank line is one example, numbered from 1. The
format comes from the first JSON object; every example is then checked against that format's rules,
and every well-formed example is counted in tokens with the model's encoding:

- chat: `tokens.count_messages_recipe(enc, messages)` + the tokens of the JSON text of `tools` and
  `functions` when present;
- prompt_completion: tokens(prompt) + tokens(completion);
- dpo: the recipe over `input.messages` followed by the `preferred_output` message(s) (what the model is
  trained towards; the non-preferred output is not counted), plus tools/functions as for chat.

The first job-failing problem wins (lowest example number); after it the scan only counts examples (no
parsing, no tokenizing) unless `scan_all=True`, which keeps checking and counting every example so a
report can list every over-limit example. The example-count check runs last, so a format error found
earlier takes precedence over "has N example(s)". Messages follow the real API's wording (reference §7.6);
"weight" problems use the newer `invalid_file_format` code and wording observed for them, every other
format problem `invalid_training_file`. With param="validation_file" the messages say "validation file".
Method "reinforcement" takes chat files with extra top-level keys (grader data), `developer` messages and
no assistant message required.

Files above `parallel_threshold` bytes are split at newlines into byte ranges validated by forked
worker processes (the first range in the calling thread) and merged in order with global numbering.
Memory is bounded by the longest line plus 8 bytes per example.
"""

from __future__ import annotations

import array
import itertools
import multiprocessing
import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import orjson

from contracts import catalog
from contracts.limits import MIN_EXAMPLES
from mockserver import tokens

__all__ = [
    "JobError", "ValidationResult", "validate_file", "validate_lines", "iter_examples", "detect_format",
    "n_examples_error", "FORMATS", "METHODS", "PARALLEL_THRESHOLD", "MAX_OVER_LIMIT_KEPT",
]

FORMATS = ("chat", "prompt_completion", "dpo")
METHODS = ("supervised", "dpo", "reinforcement")
PARALLEL_THRESHOLD = 8 * 1024 * 1024   # files larger than this are validated by several processes
MAX_OVER_LIMIT_KEPT = 1000             # over-limit examples listed individually (all are counted)
MAX_WORKERS = 4

ExampleHook = Callable[[int, Any, int], None]   # (example number, parsed JSON or parse error, tokens or -1)


@dataclass(frozen=True, slots=True)
class JobError:
    """What goes into a failed job's `error`."""

    code: str
    message: str
    param: str


@dataclass(slots=True)
class ValidationResult:
    """Outcome of validating one file; `example_tokens[i]` is -1 for examples that were not counted."""

    format: str | None
    n_examples: int
    example_tokens: array.array
    billing_tokens: int
    over_limit: list[tuple[int, int]]
    n_over_limit: int
    error: JobError | None
    warnings: list[str]
    problems: list[tuple[int | None, JobError]] = field(default_factory=list)
    """Every job-failing problem found, by example number (None for the example count): only the first
    one unless scan_all, else the first format problem, each listed over-limit example ("fail") and
    the example count."""


# --- Messages -------------------------------------------------------------------------------------

_BAD = "Invalid file format. "
_BODIES = {
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
    "weight_extra": _BAD + 'Example {n}, {0} contains an extra "weight".',
    "weight_value": _BAD + 'Example {n}, {0} "weight" must be 0 or 1.',
    "over_limit": "Example {n} has {0} tokens, which exceeds the maximum of {limit} tokens for {model}.",
}
_FILE_FORMAT_KINDS = frozenset({"weight_extra", "weight_value"})


class _Job(NamedTuple):
    """Everything a (possibly forked) scan needs; picklable."""

    encoding: str
    limit: int
    model: str
    api: str
    method: str
    file_id: str
    param: str
    truncate: bool
    scan_all: bool
    fmt: str | None = "?"    # _UNSEEN until detected from the first JSON object


_UNSEEN = "?"


def _render(job: _Job, n: int | None, line: int | None, kind: str, args: tuple) -> JobError:
    body = _BODIES[kind].format(*args, n=n, line=line, limit=job.limit, model=job.model,
                                file_id=job.file_id, method=job.method)
    noun = "training" if job.param == "training_file" else "validation"
    if kind in _FILE_FORMAT_KINDS:
        return JobError("invalid_file_format",
                        f"The job failed due to a file format error in the {noun} file. {body}", job.param)
    return JobError("invalid_training_file", f"The job failed due to an invalid {noun} file. {body}", job.param)


def n_examples_error(n: int, *, param: str = "training_file", min_examples: int = MIN_EXAMPLES) -> JobError | None:
    """The `invalid_n_examples` failure for a file of `n` examples, or None when there are enough."""
    if n >= min_examples:
        return None
    noun = "Training" if param == "training_file" else "Validation"
    return JobError("invalid_n_examples",
                    f"{noun} file has {n} example(s), but must have at least {min_examples} examples", param)


# --- Per-format rules -----------------------------------------------------------------------------
# An examiner returns (problem, tokens): problem is None or (kind, args); tokens is -1 unless well-formed.
# Message checks return (kind, args after the message's place), the place being added only on failure.

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
_FORMAT_NAMES = {"chat": "fine-tune-chat", "dpo": "fine-tune-preference", "prompt_completion": "prompt/completion"}


def detect_format(example: dict) -> str | None:
    """The file format an example is written in: "chat", "dpo", "prompt_completion" or None."""
    if "messages" in example:
        return "chat"
    if "input" in example or "preferred_output" in example or "non_preferred_output" in example:
        return "dpo"
    if "prompt" in example or "completion" in example:
        return "prompt_completion"
    return None


def _first_extra(keys: Iterable[str], allowed: frozenset) -> str:
    return next(k for k in keys if k not in allowed)


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
        return None if content is None or type(content) is str else ("msg_wrong_type", ("content", "a string"))
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
    if calls is not None and (type(calls) is not list or not calls or any(type(c) is not dict for c in calls)):
        return "msg_wrong_type", ("tool_calls", "a non-empty list of objects")
    call = m.get("function_call")
    if call is not None and type(call) is not dict:
        return "msg_wrong_type", ("function_call", "an object")
    w = m.get("weight", 0)
    return None if type(w) is int and w in (0, 1) else ("weight_value", ())


def _check_messages(messages: Any, key: str, label: str, roles: dict, need_assistant: bool) -> tuple | None:
    if type(messages) is not list or not messages:
        return "not_list", (key,)
    has_assistant = False
    for i, m in enumerate(messages, 1):
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


def _extra_tokens(enc: Any, ex: dict) -> int:
    total = 0
    for key in ("tools", "functions"):
        value = ex.get(key)
        if value:
            total += len(enc.encode_ordinary(orjson.dumps(value).decode()))
    return total


def _examine_chat(ex: dict, job: _Job, enc: Any) -> tuple[tuple | None, int]:
    if "messages" not in ex:
        return ("missing_key", ("messages",)), -1
    if job.method != "reinforcement" and not ex.keys() <= _CHAT_KEYS:
        return ("extra_key", (_first_extra(ex, _CHAT_KEYS),)), -1
    rft = job.method == "reinforcement"
    messages = ex["messages"]
    problem = (_check_messages(messages, "messages", "message", _RFT_ROLES if rft else _SFT_ROLES, not rft)
               or _check_tools(ex))
    if problem is not None:
        return problem, -1
    return None, tokens.count_messages_recipe(enc, messages) + _extra_tokens(enc, ex)


def _examine_dpo(ex: dict, job: _Job, enc: Any) -> tuple[tuple | None, int]:
    for key in ("input", "preferred_output", "non_preferred_output"):
        if key not in ex:
            return ("missing_key", (key,)), -1
    if not ex.keys() <= _DPO_KEYS:
        return ("extra_key", (_first_extra(ex, _DPO_KEYS),)), -1
    inp = ex["input"]
    if type(inp) is not dict:
        return ("wrong_type", ("input", "an object")), -1
    if "messages" not in inp:
        return ("missing_key", ("input.messages",)), -1
    if not inp.keys() <= _DPO_INPUT_KEYS:
        return ("extra_key", ("input." + _first_extra(inp, _DPO_INPUT_KEYS),)), -1
    problem = (_check_messages(inp["messages"], "input.messages", "input message", _DPO_ROLES, False)
               or _check_tools(inp) or _check_outputs(ex, "preferred_output")
               or _check_outputs(ex, "non_preferred_output"))
    if problem is not None:
        return problem, -1
    count = tokens.count_messages_recipe(enc, [*inp["messages"], *ex["preferred_output"]])
    return None, count + _extra_tokens(enc, inp)


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


def _examine_pc(ex: dict, job: _Job, enc: Any) -> tuple[tuple | None, int]:
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
    encode = enc.encode_ordinary
    return None, len(encode(prompt)) + len(encode(completion))


def _examine_nothing(ex: dict, job: _Job, enc: Any) -> tuple[tuple | None, int]:
    return None, -1


_EXAMINERS = {"chat": _examine_chat, "dpo": _examine_dpo, "prompt_completion": _examine_pc}


def _file_problem(fmt: str | None, job: _Job) -> tuple | None:
    """The file-level mismatch of a format with the job's method and model, if any."""
    if fmt is None:
        return "unknown_format", ()
    name = _FORMAT_NAMES[fmt]
    wanted = "dpo" if fmt == "dpo" else "supervised"
    if job.method != wanted and not (fmt == "chat" and job.method == "reinforcement"):
        return "not_method", (name, wanted)
    if (fmt == "prompt_completion") != (job.api == "completions"):
        return "model_format", (name, "chat messages" if job.api == "chat" else "prompt/completion pairs")
    return None


# --- Scanning -------------------------------------------------------------------------------------

@dataclass(slots=True)
class _Partial:
    """The result of scanning one run of lines, numbered locally from 1."""

    fmt: str | None = _UNSEEN
    n: int = 0
    lines: int = 0
    tokens: array.array = field(default_factory=lambda: array.array("q"))
    billing: int = 0
    over: list[tuple[int, int]] = field(default_factory=list)
    n_over: int = 0
    first: tuple | None = None          # (example, line, kind, args) of the first problem of any kind
    first_format: tuple | None = None   # the same, not counting over-limit examples


def _parse(line: bytes) -> Any:
    try:
        return orjson.loads(line)
    except orjson.JSONDecodeError as e:
        return e


def _object_problem(ex: Any) -> tuple:
    if isinstance(ex, orjson.JSONDecodeError):
        return "json", (f"{ex.msg} at char {ex.pos}",)
    return "not_object", ({list: "an array", str: "a string", bool: "a boolean", type(None): "null"}
                          .get(type(ex), "a number"),)


def _record(p: _Partial, problem: tuple) -> None:
    if p.first is None:
        p.first = problem
    if p.first_format is None and problem[2] != "over_limit":
        p.first_format = problem


def _scan(lines: Iterable[bytes], job: _Job, on_example: ExampleHook | None = None) -> _Partial:
    """Check and count every example of `lines`; the hot loop, kept free of per-example objects."""
    p = _Partial(fmt=job.fmt)
    enc = tokens.get_encoding(job.encoding)
    examine = None if job.fmt == _UNSEEN else _EXAMINERS.get(job.fmt, _examine_nothing)
    limit, scan_all, fail = job.limit, job.scan_all, not job.truncate
    append = p.tokens.append
    stopped = False
    n = line_no = 0
    for line in lines:
        line_no += 1
        if not line or line.isspace():
            continue
        n += 1
        if stopped:
            append(-1)
            if on_example is not None:
                on_example(n, _parse(line), -1)
            continue
        ex = _parse(line)
        count = -1
        if type(ex) is not dict:
            problem = _object_problem(ex)
        else:
            problem = None
            if examine is None:
                p.fmt = detect_format(ex)
                examine = _EXAMINERS.get(p.fmt, _examine_nothing)
                problem = _file_problem(p.fmt, job)
                if problem is not None:
                    _record(p, (n, line_no) + problem)
            if problem is None or scan_all:
                problem, count = examine(ex, job, enc)
        if problem is not None:
            _record(p, (n, line_no) + problem)
            stopped = not scan_all
        elif count > limit:
            p.n_over += 1
            if len(p.over) < MAX_OVER_LIMIT_KEPT:
                p.over.append((n, count))
            if fail:
                _record(p, (n, line_no, "over_limit", (count,)))
                stopped = not scan_all
        append(count)
        if count > 0:
            p.billing += count if count < limit else limit
        if on_example is not None:
            on_example(n, ex, count)
    p.n, p.lines = n, line_no
    return p


def _merge(parts: list[_Partial], scan_all: bool) -> _Partial:
    """Join consecutive runs: shift their numbering, keep the earliest problems, and (unless scan_all)
    drop everything counted after the first problem, as a single scan would."""
    out = parts[0]
    for p in parts[1:]:
        dn, dl = out.n, out.lines
        out.n += p.n
        out.lines += p.lines
        if out.first is not None and not scan_all:
            out.tokens.extend(array.array("q", [-1]) * p.n)
            continue
        out.tokens.extend(p.tokens)
        out.billing += p.billing
        out.n_over += p.n_over
        out.over.extend((n + dn, t) for n, t in p.over[:MAX_OVER_LIMIT_KEPT - len(out.over)])
        for name in ("first", "first_format"):
            mine, theirs = getattr(out, name), getattr(p, name)
            if mine is None and theirs is not None:
                setattr(out, name, (theirs[0] + dn, theirs[1] + dl) + theirs[2:])
    return out


def _finish(p: _Partial, job: _Job, min_examples: int) -> ValidationResult:
    if job.scan_all:
        found = [p.first_format] if p.first_format else []
        if not job.truncate:
            found += [(n, None, "over_limit", (t,)) for n, t in p.over]
        found.sort(key=lambda prob: prob[0])
    else:
        found = [p.first] if p.first else []
    problems: list[tuple[int | None, JobError]] = [(n, _render(job, n, line, kind, args))
                                                   for n, line, kind, args in found]
    count_error = n_examples_error(p.n, param=job.param, min_examples=min_examples)
    if count_error is not None and (job.scan_all or not problems):
        problems.append((None, count_error))
    warnings = []
    if job.truncate and p.n_over:
        warnings.append(f"{p.n_over} example(s) exceed the {job.limit}-token limit of {job.model} and were "
                        f"truncated; billing counts {job.limit} tokens for each.")
    fmt = None if p.fmt == _UNSEEN else p.fmt
    return ValidationResult(fmt, p.n, p.tokens, p.billing, p.over, p.n_over,
                            problems[0][1] if problems else None, warnings, problems)


# --- Files and parallelism ------------------------------------------------------------------------

def _entry(model: str) -> catalog.BaseModel:
    entry = catalog.fine_tunable(catalog.base_of(model))
    if entry is None:
        raise ValueError(f"model {model!r} cannot be fine-tuned")
    return entry


def _job(entry: catalog.BaseModel, method: str, file_id: str, param: str, over_limit: str,
         scan_all: bool) -> _Job:
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}, not {method!r}")
    if over_limit not in ("fail", "truncate"):
        raise ValueError(f"over_limit must be 'fail' or 'truncate', not {over_limit!r}")
    return _Job(entry.encoding, entry.training_limit or 0, entry.id, entry.api, method, file_id, param,
                over_limit == "truncate", scan_all)


def validate_lines(lines: Iterable[bytes], *, model: str, method: str = "supervised", file_id: str,
                   param: str = "training_file", over_limit: str = "fail", min_examples: int = MIN_EXAMPLES,
                   scan_all: bool = False, on_example: ExampleHook | None = None) -> ValidationResult:
    """Validate in-memory JSONL lines (bytes, one example each) for a job on `model`.

    `on_example(n, example, tokens)` is called for every example in order, with the parsed JSON (or the
    parse error) and its token count (-1 when not counted).
    """
    job = _job(_entry(model), method, file_id, param, over_limit, scan_all)
    return _finish(_scan(lines, job, on_example), job, min_examples)


def validate_file(path: str | os.PathLike, *, model: str, method: str = "supervised", file_id: str,
                  param: str = "training_file", over_limit: str = "fail", min_examples: int = MIN_EXAMPLES,
                  scan_all: bool = False, on_example: ExampleHook | None = None,
                  parallel_threshold: int = PARALLEL_THRESHOLD, workers: int | None = None) -> ValidationResult:
    """Validate a JSONL file for a job on `model`, streaming it; large files use several processes.

    A UTF-8 byte-order mark at the start of the file is ignored. `workers` overrides the number of
    processes (default: the usable CPUs, 2 to 4); a hook forces the single-process path.
    """
    job = _job(_entry(model), method, file_id, param, over_limit, scan_all)
    size = os.path.getsize(path)
    n_procs = workers if workers is not None else min(MAX_WORKERS, _usable_cpus())
    if on_example is None and n_procs >= 2 and size > parallel_threshold:
        fixed = _fixed_format(path, job)
        if fixed is not None:
            try:
                return _finish(_scan_parallel(path, size, fixed, n_procs), job, min_examples)
            except BrokenProcessPool:   # a worker was killed (e.g. out of memory): do it in one process
                pass
    with open(path, "rb") as f:
        return _finish(_scan(_without_bom(f), job, on_example), job, min_examples)


def iter_examples(lines: Iterable[bytes]) -> Iterator[tuple[int, Any]]:
    """(example number, parsed JSON or the parse error) for each non-blank line; blanks are not counted."""
    n = 0
    for line in lines:
        if line and not line.isspace():
            n += 1
            yield n, _parse(line)


def _usable_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _without_bom(lines: Iterable[bytes]) -> Iterator[bytes]:
    it = iter(lines)
    first = next(it, None)
    if first is None:
        return it
    return itertools.chain((first.removeprefix(b"\xef\xbb\xbf"),), it)


def _fixed_format(path: str | os.PathLike, job: _Job) -> _Job | None:
    """The job with the format of the first example fixed, when that example is a valid-for-job object
    (otherwise the file fails at example 1 and the single-process scan is as fast)."""
    with open(path, "rb") as f:
        for line in _without_bom(f):
            if line and not line.isspace():
                ex = _parse(line)
                if type(ex) is not dict:
                    return None
                fmt = detect_format(ex)
                return job._replace(fmt=fmt) if _file_problem(fmt, job) is None else None
    return None


def _boundaries(path: str | os.PathLike, size: int, n: int) -> list[int]:
    """Offsets splitting the file into about `n` equal byte ranges, each ending after a newline."""
    cuts = [0]
    with open(path, "rb") as f:
        for i in range(1, n):
            f.seek(max(size * i // n - 1, cuts[-1]))
            f.readline()
            if f.tell() < size and f.tell() > cuts[-1]:
                cuts.append(f.tell())
    return [*cuts, size]


def _range_lines(path: str | os.PathLike, start: int, end: int) -> Iterator[bytes]:
    with open(path, "rb") as f:
        f.seek(start)
        left = end - start
        for line in f:
            left -= len(line)
            yield line.removeprefix(b"\xef\xbb\xbf") if left + len(line) == end else line
            if left <= 0:
                return


def _scan_range(path: str | os.PathLike, start: int, end: int, job: _Job) -> _Partial:
    return _scan(_range_lines(path, start, end), job)


def _scan_parallel(path: str | os.PathLike, size: int, job: _Job, n_procs: int) -> _Partial:
    cuts = _boundaries(path, size, n_procs)
    ranges = list(itertools.pairwise(cuts))
    if len(ranges) == 1:
        return _scan_range(path, 0, size, job)
    methods = multiprocessing.get_all_start_methods()
    ctx = multiprocessing.get_context("fork" if "fork" in methods else None)
    with ProcessPoolExecutor(max_workers=len(ranges) - 1, mp_context=ctx) as pool:
        futures = [pool.submit(_scan_range, path, a, b, job) for a, b in ranges[1:]]
        first = _scan_range(path, *ranges[0], job)   # in the calling thread: tiktoken is fastest there
        return _merge([first, *(f.result() for f in futures)], job.scan_all)
