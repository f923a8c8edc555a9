"""Generated training files: `validate_lines`' verdict equals an independent oracle written here.

The oracle follows the reference (§7.2–§7.6: the cookbook's format checks, the real error codes and
wording, the 10-example minimum, the token recipe, billing `min(limit, tokens)` per example) in plain
Python, counting tokens with quicktok; it never imports contracts.dataset.validation internals. Datasets sit at
the boundaries: 9/10/11 examples, examples of 4095/4096/4097 tokens on gpt-3.5-turbo-0613 (limit 4096),
random unicode, emoji and Japanese, and one defect at a time: malformed JSON, non-objects, wrong types,
missing or bad roles, unknown keys, bad `weight` values, no assistant message.
"""

from __future__ import annotations

import functools
import json
import re
from typing import Any

import hypothesis.strategies as st
import pytest
import quicktok
from hypothesis import given

from contracts.dataset.validation import validate_lines

MODEL, LIMIT, FILE_ID = "gpt-3.5-turbo-0613", 4096, "file-oracle"
QT = quicktok.get_encoding("cl100k_base")
ROLES = {"system": {"role", "content", "name"}, "user": {"role", "content", "name"},
         "assistant": {"role", "content", "name", "weight", "function_call", "tool_calls"},
         "tool": {"role", "content", "name", "tool_call_id"}, "function": {"role", "content", "name"}}
TOP_KEYS = {"messages", "tools", "functions", "parallel_tool_calls"}
KNOWN_FORMAT_KEYS = {"messages", "input", "preferred_output", "non_preferred_output", "prompt", "completion"}
INVALID, FORMAT, N_EXAMPLES = "invalid_training_file", "invalid_file_format", "invalid_n_examples"


# --- The oracle -----------------------------------------------------------------------------------------

def recipe(messages: list[dict]) -> int:
    """3 per message + every string value + 1 per name + 3 priming (reference §7.4), with quicktok."""
    return 3 + sum(3 + sum(len(QT.encode_ordinary(v)) for v in m.values() if isinstance(v, str)) + ("name" in m)
                   for m in messages)


def message_problem(m: Any) -> str | None:
    """The error code a message earns, or None (reference §7.6 and the cookbook's format checks)."""
    if not isinstance(m, dict) or m.get("role") is None or not isinstance(m["role"], str) or m["role"] not in ROLES:
        return INVALID
    extra = set(m) - ROLES[m["role"]]
    if extra:
        return FORMAT if extra == {"weight"} else INVALID
    if "name" in m and not isinstance(m["name"], str):
        return INVALID
    if not (isinstance(m.get("content"), str) and m["content"]):
        return INVALID
    if "weight" in m and not (type(m["weight"]) is int and m["weight"] in (0, 1)):
        return FORMAT
    return None


UNKNOWN_FORMAT = "unknown format"   # the real message names no example: "Unexpected file format, …"


def example_problem(ex: Any, first: bool) -> str | None:
    if not isinstance(ex, dict):
        return INVALID
    if first and not set(ex) & KNOWN_FORMAT_KEYS:
        return UNKNOWN_FORMAT
    if "messages" not in ex or set(ex) - TOP_KEYS:
        return INVALID
    messages = ex["messages"]
    if not isinstance(messages, list) or not messages:
        return INVALID
    for m in messages:
        if (code := message_problem(m)) is not None:
            return code
    return None if any(m["role"] == "assistant" for m in messages) else INVALID


def oracle(lines: list[bytes], over_limit: str) -> dict:
    """The verdict: error code, failing example, n_examples, per-example tokens (-1 = not counted), billing."""
    code = where = None
    tokens: list[int] = []
    billing = n = 0
    for line in lines:
        if not line.strip(b" \t\r\n\x0b\x0c"):
            continue
        n += 1
        if code is not None:
            tokens.append(-1)
            continue
        try:
            ex = json.loads(line)
        except ValueError:
            ex = _BROKEN
        code = INVALID if ex is _BROKEN else example_problem(ex, first=n == 1)
        if code is not None:
            code, where = (INVALID, None) if code == UNKNOWN_FORMAT else (code, n)
            tokens.append(-1)
            continue
        count = recipe(ex["messages"])
        tokens.append(count)
        billing += min(count, LIMIT)
        if count > LIMIT and over_limit == "fail":
            code, where = INVALID, n
    if code is None and n < 10:
        code = N_EXAMPLES
    return {"code": code, "example": where, "n_examples": n, "tokens": tokens, "billing": billing}


_BROKEN = object()


def verdict(lines: list[bytes], over_limit: str) -> dict:
    """What `validate_lines` decides, in the oracle's terms (plus the message, checked separately)."""
    r = validate_lines(lines, model=MODEL, file_id=FILE_ID, over_limit=over_limit)
    found = re.match(r".*?Example (\d+)", r.error.message) if r.error else None
    return {"code": r.error.code if r.error else None, "example": int(found.group(1)) if found else None,
            "n_examples": r.n_examples, "tokens": list(r.example_tokens), "billing": r.billing_tokens,
            "message": r.error.message if r.error else None, "n_over": r.n_over_limit}


def check_against_oracle(lines: list[bytes], over_limit: str) -> dict:
    got, want = verdict(lines, over_limit), oracle(lines, over_limit)
    assert {k: got[k] for k in want} == want, got["message"]
    message = got["message"]
    if want["code"] == N_EXAMPLES:
        assert message == f"Training file has {want['n_examples']} example(s), but must have at least 10 examples"
    elif want["code"] == INVALID:
        assert message.startswith("The job failed due to an invalid training file. ")
    elif want["code"] == FORMAT:
        assert message.startswith("The job failed due to a file format error in the training file. ")
        assert 'contains an extra "weight"' in message or '"weight"' in message
    counted = [t for t in want["tokens"] if t > LIMIT]
    if over_limit == "truncate":
        assert got["n_over"] == len(counted)
    return got


# --- Datasets -------------------------------------------------------------------------------------------

SAMPLES = ["何言われてもぶひと答えて", "はい!ぶたのものまねしてますぶひ!", "🐷🐽👍🏽👨‍👩‍👧", "Ünïcödé ñ",
           "zero\u200bwidth", "<|endoftext|> is plain text here", "tab\tand\nnewline", "  "]
text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=30) \
    | st.sampled_from(SAMPLES)
name = st.from_regex(r"[a-zA-Z0-9_-]{1,12}", fullmatch=True)
WEIGHTS = [0, 1, 2, -1, 0.5, 1.0, "1", True, None]


@st.composite
def good_example(draw: st.DrawFn) -> dict:
    messages = []
    if draw(st.booleans()):
        messages.append({"role": "system", "content": draw(text)} | ({"name": draw(name)} if draw(st.booleans())
                                                                       else {}))
    for _ in range(draw(st.integers(1, 2))):
        user = {"role": "user", "content": draw(text)} | ({"name": draw(name)} if draw(st.booleans()) else {})
        assistant = {"role": "assistant", "content": draw(text)}
        if draw(st.integers(0, 3)) == 0:
            assistant["weight"] = draw(st.sampled_from([0, 1]))
        messages += [user, assistant]
    return {"messages": messages}


def _break_message(ex: dict, i: int, how: str, value: Any) -> dict:
    m = dict(ex["messages"][i])
    if how == "drop":
        m.pop(value, None)
    else:
        m[how] = value
    ex["messages"][i] = m
    return ex


# Each defect breaks one thing in a good example; `d(options)` picks one of the options.
DEFECTS = {
    "missing_role": lambda ex, d: _break_message(ex, 0, "drop", "role"),
    "bad_role": lambda ex, d: _break_message(ex, 0, "role", d(["bot", "Assistant", 5, ""])),
    "content_type": lambda ex, d: _break_message(ex, -1, "content", d([7, None, "", ["x"]])),
    "missing_content": lambda ex, d: _break_message(ex, -1, "drop", "content"),
    "name_type": lambda ex, d: _break_message(ex, 0, "name", d([1, ["n"]])),
    "unknown_key": lambda ex, d: _break_message(ex, 0, "colour", "red"),
    "weight_value": lambda ex, d: _break_message(ex, -1, "weight", d(WEIGHTS)),
    "weight_on_user": lambda ex, d: _break_message(ex, -2, "weight", 1),
    "no_assistant": lambda ex, d: {"messages": [m for m in ex["messages"] if m["role"] != "assistant"]},
    "top_level_key": lambda ex, d: ex | {"metadata": {"a": 1}},
    "messages_type": lambda ex, d: {"messages": d([[], {}, "hi", None])},
    "no_messages": lambda ex, d: {"msgs": ex["messages"]},
}
RAW_DEFECTS = [b'{"messages": [{"role": "user", "content": "hi"}\n', b"{oops}\n", b'[{"messages": []}]\n',
               b'"just a string"\n', b"42\n", b"null\n", b'{"messages": [1, 2,]}\n']


def line(ex: dict) -> bytes:
    return json.dumps(ex, ensure_ascii=False).encode() + b"\n"


@functools.cache
def sized_line(target: int) -> bytes:
    """An example whose recipe count is exactly `target` tokens: Japanese plus one-token " a" padding."""
    assistant = {"role": "assistant", "content": "500キロぶひ!"}
    base = recipe([{"role": "user", "content": "体重何キロ?"}, assistant])
    messages = [{"role": "user", "content": "体重何キロ?" + " a" * (target - base)}, assistant]
    assert recipe(messages) == target
    return line({"messages": messages})


@st.composite
def dataset(draw: st.DrawFn) -> list[bytes]:
    lines = [line(draw(good_example())) for _ in range(draw(st.integers(9, 11)))]
    for _ in range(draw(st.integers(0, 2))):
        pick = draw(st.sampled_from([*DEFECTS, "raw", "sized", "blank"]))
        if pick == "raw":
            bad = draw(st.sampled_from(RAW_DEFECTS))
        elif pick == "sized":
            bad = sized_line(draw(st.sampled_from([4095, 4096, 4097])))
        elif pick == "blank":
            bad = draw(st.sampled_from([b"\n", b"   \r\n", b"\t\n"]))
        else:
            bad = line(DEFECTS[pick](draw(good_example()), lambda options: draw(st.sampled_from(options))))
        lines.insert(draw(st.integers(0, len(lines))), bad)
    return lines


# --- Tests ----------------------------------------------------------------------------------------------

@given(dataset(), st.sampled_from(["fail", "truncate"]))
def test_verdict_equals_the_oracle(lines, over_limit):
    check_against_oracle(lines, over_limit)


@pytest.mark.parametrize("n", [9, 10, 11])
def test_example_count_boundary(n):
    lines = [sized_line(100 + i) for i in range(n)]
    got = check_against_oracle(lines, "fail")
    assert (got["code"] is None) == (n >= 10)


@pytest.mark.parametrize("over_limit", ["fail", "truncate"])
@pytest.mark.parametrize("target", [4095, 4096, 4097])
def test_token_limit_boundary(target, over_limit):
    lines = [sized_line(50)] * 9 + [sized_line(target)]
    got = check_against_oracle(lines, over_limit)
    assert got["tokens"][-1] == target and got["billing"] == 9 * 50 + min(target, LIMIT)
    failed = target > LIMIT and over_limit == "fail"
    assert (got["code"], got["example"]) == ((INVALID, 10) if failed else (None, None))
    if failed:
        assert f"Example 10 has {target} tokens" in got["message"] and str(LIMIT) in got["message"]


@pytest.mark.parametrize("defect", sorted(DEFECTS))
def test_each_defect_alone(defect):
    ex = DEFECTS[defect]({"messages": [{"role": "system", "content": "s"}, {"role": "user", "content": "u"},
                                       {"role": "assistant", "content": "a"}]}, lambda options: options[-1])
    lines = [sized_line(60)] * 4 + [line(ex)] + [sized_line(60)] * 6
    got = check_against_oracle(lines, "fail")
    assert got["example"] == 5 and got["code"] in (INVALID, FORMAT), got


def test_missing_role_message_matches_the_real_wording():
    lines = [sized_line(60)] * 3 + [line({"messages": [{"role": "user", "content": "q"}, {"content": "a"}]})]
    got = check_against_oracle(lines + [sized_line(60)] * 6, "fail")
    assert got["message"] == ("The job failed due to an invalid training file. Invalid file format. "
                              "Example 4, message 2 Discriminator 'role' is missing in value")
